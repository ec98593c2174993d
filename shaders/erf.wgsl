// erf.wgsl: float32-accurate erf and the normal CDF, for the exact GELU.
// A library without bindings or entry points: gelu.wgsl and matmul.wgsl
// (its GELU epilogue) include it with a `// #include erf.wgsl` line, which
// package shaders resolves by appending this file.
//
// WGSL has no erf. Phi is computed without cancellation in both tails:
//   |z| <= 1: erf(z) = z * sum_{n<12} c_n z^(2n), the Maclaurin series
//             c_n = 2/sqrt(pi) (-1)^n / (n! (2n+1)); truncation < 1e-9.
//   |z| >  1: erfc(|z|) = t exp(-z^2) exp(P(t)), t = 1 / (1 + |z|/2), with P
//             the Chebyshev-fitted polynomial of Numerical Recipes' erfcc
//             (fractional error < 1.2e-7); exp(-z^2) is evaluated without
//             rounding z^2 (exp_neg_sq) so large |z| keep their accuracy.
// exp(-z^2) uses a Cody-Waite range reduction (exp_neg). Measured in float32
// arithmetic against float64: erf relative error <= 1.8e-7 for all z, erfc
// relative error <= 4.6e-7 for 1 < z <= 9 (beyond, Phi(x) < 1e-36 for
// x < -12.7 and becomes subnormal).

const FRAC_1_SQRT2 = 0.7071067811865476;
const FRAC_1_SQRT_2PI = 0.3989422804014327;

const ERF_C0 = 1.128379167e+00;
const ERF_C1 = -3.761263890e-01;
const ERF_C2 = 1.128379167e-01;
const ERF_C3 = -2.686617065e-02;
const ERF_C4 = 5.223977625e-03;
const ERF_C5 = -8.548327023e-04;
const ERF_C6 = 1.205533298e-04;
const ERF_C7 = -1.492565036e-05;
const ERF_C8 = 1.646211437e-06;
const ERF_C9 = -1.636584469e-07;
const ERF_C10 = 1.480719282e-08;
const ERF_C11 = -1.229055530e-09;

// erf_small is erf(z) for |z| <= 1.
fn erf_small(z: f32) -> f32 {
    let s = z * z;
    var r = ERF_C11;
    r = fma(r, s, ERF_C10);
    r = fma(r, s, ERF_C9);
    r = fma(r, s, ERF_C8);
    r = fma(r, s, ERF_C7);
    r = fma(r, s, ERF_C6);
    r = fma(r, s, ERF_C5);
    r = fma(r, s, ERF_C4);
    r = fma(r, s, ERF_C3);
    r = fma(r, s, ERF_C2);
    r = fma(r, s, ERF_C1);
    r = fma(r, s, ERF_C0);
    return r * z;
}

// Cody-Waite split of ln 2: LN2_HI has few mantissa bits, so n * LN2_HI is
// exact for the |n| < 2^12 used here.
const LN2_HI = 0.693145751953125;
const LN2_LO = 1.428606765330187e-6;
const LOG2_E = 1.4426950408889634;

// exp_neg is exp(-a) for a >= 0 with a relative error of a few ulp for any
// a: the built-in exp may lose ~|a| ulp (WGSL allows 3 + 2|x| ulp), which
// would cost the far tails of Phi their relative accuracy.
fn exp_neg(a: f32) -> f32 {
    let n = round(a * LOG2_E);
    var r = fma(-n, LN2_HI, a);
    r = fma(-n, LN2_LO, r); // r = a - n ln2, |r| <= ~0.35
    return ldexp(exp(-r), -i32(n));
}

// exp_neg_sq is exp(-s v^2) (s = 1 or 1/2) to a few ulp for any v. v^2 is
// not rounded: v = vh + vl with vh the top 12 significant bits of v (a bit
// mask, which no compiler can re-associate away), so s vh^2 is exact and
// the rest, s vl (vh + v), is ~2^-11 of it and enters exp as a small
// argument. (fma-based splits are not portable: Vulkan lets fma be a
// separate multiply and add.)
fn exp_neg_sq(v: f32, s: f32) -> f32 {
    let vh = bitcast<f32>(bitcast<u32>(v) & 0xfffff000u);
    let vl = v - vh;
    return exp_neg(s * vh * vh) * exp(-s * vl * (vh + v));
}

// erfc_big is erfc(a) for a >= 1, given e = exp(-a^2) (the caller forms it
// from its own exact input: erfc is ill-conditioned in a, relative
// condition ~2a^2, so rounding a^2 first would cost accuracy).
fn erfc_big(a: f32, e: f32) -> f32 {
    let t = 1.0 / (1.0 + 0.5 * a);
    var p = 0.17087277;
    p = fma(p, t, -0.82215223);
    p = fma(p, t, 1.48851587);
    p = fma(p, t, -1.13520398);
    p = fma(p, t, 0.27886807);
    p = fma(p, t, -0.18628806);
    p = fma(p, t, 0.09678418);
    p = fma(p, t, 0.37409196);
    p = fma(p, t, 1.00002368);
    p = fma(p, t, -1.26551223);
    return t * e * exp(p);
}

// erf is float32-accurate erf (relative error <= 1.8e-7 plus the device's
// exp error).
fn erf(z: f32) -> f32 {
    let a = abs(z);
    if (a <= 1.0) {
        return erf_small(z);
    }
    return sign(z) * (1.0 - erfc_big(a, exp_neg_sq(z, 1.0)));
}

// normal_cdf is Phi(v), accurate relative to its value in both tails: the
// tail's exp(-z^2) = exp(-v^2/2) is formed from v itself.
fn normal_cdf(v: f32) -> f32 {
    let z = v * FRAC_1_SQRT2;
    let a = abs(z);
    if (a <= 1.0) {
        return 0.5 + 0.5 * erf_small(z);
    }
    let e = erfc_big(a, exp_neg_sq(v, 0.5));
    if (z > 0.0) {
        return 1.0 - 0.5 * e;
    }
    return 0.5 * e;
}

// gelu_value is the exact GELU x * Phi(x).
fn gelu_value(v: f32) -> f32 {
    return v * normal_cdf(v);
}
