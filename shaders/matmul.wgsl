// matmul.wgsl: C = op(A) op(B) (+ bias), or C += that with accumulate, with
// an optional GELU epilogue.
//
// Layouts (row-major, f32, element offsets off_* into each binding):
//   C    M x N
//   A    M x K, or K x M when TRANS_A (op(A) = A^T)
//   B    K x N, or N x K when TRANS_B (op(B) = B^T)
//   bias N (flags bit 0), added to every row of the product
//   act  M x N (flags bit 4): act = gelu(C) (exact erf GELU, erf.wgsl), with
//        C the pre-activation, still written (the backward pass needs it)
// flags bit 1: accumulate (C += product + bias) instead of overwrite.
// flags bit 2 (bit 3): A (B) is read as vec4: the storage row length of A
// (K, or M when TRANS_A), resp. of B (N, or K when TRANS_B), and off_a
// (off_b) are multiples of 4, so every aligned group of 4 consecutive
// elements along a row lies inside the matrix. A and B are bound as
// array<vec4<f32>> either way (engine/gpu sizes bindings in whole vec4s);
// the scalar path reads element i as a[i / 4][i % 4].
//
// One workgroup computes a BM x BN tile of C. K is walked in steps of BK:
// the BM x BK slab of op(A) and the BK x BN slab of op(B) are staged in
// workgroup memory as vec4s of 4 consecutive rows (As) and 4 consecutive
// columns (Bs), zero-padded outside the matrices so every shape works; then
// each of the WG_X x WG_Y threads accumulates the TM x TN = 8 x 8 block of
// rows 8*lid.y .. +7 and columns 8*lid.x .. +7 of the tile (sixteen vec4
// accumulators), reading two vec4s of As and two of Bs per k: four
// workgroup loads per 64 FMAs. Software adapters are bound by those loads:
// SwiftShader gathers every lane's element of a dynamically indexed load
// one by one, so the 8 x 8 block (against 4 x 4: two loads per 16 FMAs)
// halves the loads per FMA; the 224-px default's reconstruction on
// SwiftShader went from 816 to 483 ms with it (README).
//
// TRANS_A and TRANS_B are specialised by engine/gpu (it rewrites the two
// `const` lines), and so are BM, WG_Y and THREADS for short products (BM 16
// or 32 when M is small: fewer padded rows; at most 32 on software
// adapters, where smaller workgroups run faster); the global loads are arranged
// so that consecutive threads read consecutive addresses for either
// storage order.

const TRANS_A = false;
const TRANS_B = false;

const BM = 64u;
const BN = 64u;
const BK = 16u;
const TM = 8u; // the sixteen vec4 accumulators below assume TM = TN = 8
const TN = 8u;
const WG_X = 8u; // BN / TN
const WG_Y = 8u; // BM / TM
const THREADS = 64u; // WG_X * WG_Y

struct Params {
    m: u32,
    n: u32,
    k: u32,
    flags: u32,
    off_c: u32,
    off_a: u32,
    off_b: u32,
    off_bias: u32,
    off_act: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> c: array<f32>;
// Read-only: a weight and its bias are views of one parameter buffer, and
// browsers accept overlapping bindings of a buffer only when read-only.
@group(0) @binding(2) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> act: array<f32>;

var<workgroup> As: array<vec4<f32>, BK * BM / 4u>; // As[k * BM/4 + m/4][m % 4]
var<workgroup> Bs: array<vec4<f32>, BK * BN / 4u>; // Bs[k * BN/4 + n/4][n % 4]

fn a_at(i: u32) -> f32 {
    return a[i >> 2u][i & 3u];
}

fn b_at(i: u32) -> f32 {
    return b[i >> 2u][i & 3u];
}

// stage_a stages op(A)[row0 .. row0+BM, k0 .. k0+BK] into As.
fn stage_a(li: u32, row0: u32, k0: u32) {
    let M = P.m;
    let K = P.k;
    if ((P.flags & 4u) != 0u) {
        // One vec4 per item: 4 consecutive k (A is M x K) or m (A is K x M).
        for (var e = li; e < BM * BK / 4u; e += THREADS) {
            if (TRANS_A) {
                let kk = e / (BM / 4u);
                let m = (e % (BM / 4u)) * 4u;
                let gm = row0 + m;
                let gk = k0 + kk;
                var v = vec4<f32>(0.0);
                if (gm < M && gk < K) {
                    v = a[(P.off_a + gk * M + gm) >> 2u];
                }
                As[kk * (BM / 4u) + m / 4u] = v;
            } else {
                let m = e / (BK / 4u);
                let kk = (e % (BK / 4u)) * 4u;
                let gm = row0 + m;
                let gk = k0 + kk;
                var v = vec4<f32>(0.0);
                if (gm < M && gk < K) {
                    v = a[(P.off_a + gm * K + gk) >> 2u];
                }
                let i = kk * (BM / 4u) + m / 4u;
                let q = m % 4u;
                As[i][q] = v.x;
                As[i + BM / 4u][q] = v.y;
                As[i + 2u * (BM / 4u)][q] = v.z;
                As[i + 3u * (BM / 4u)][q] = v.w;
            }
        }
        return;
    }
    for (var e = li; e < BM * BK; e += THREADS) {
        var m: u32;
        var kk: u32;
        if (TRANS_A) { // A is K x M: consecutive threads walk m
            kk = e / BM;
            m = e % BM;
        } else {       // A is M x K: consecutive threads walk k
            m = e / BK;
            kk = e % BK;
        }
        let gm = row0 + m;
        let gk = k0 + kk;
        var v = 0.0;
        if (gm < M && gk < K) {
            if (TRANS_A) {
                v = a_at(P.off_a + gk * M + gm);
            } else {
                v = a_at(P.off_a + gm * K + gk);
            }
        }
        As[kk * (BM / 4u) + m / 4u][m % 4u] = v;
    }
}

// stage_b stages op(B)[k0 .. k0+BK, col0 .. col0+BN] into Bs.
fn stage_b(li: u32, col0: u32, k0: u32) {
    let N = P.n;
    let K = P.k;
    if ((P.flags & 8u) != 0u) {
        // One vec4 per item: 4 consecutive k (B is N x K) or n (B is K x N).
        for (var e = li; e < BK * BN / 4u; e += THREADS) {
            if (TRANS_B) {
                let n = e / (BK / 4u);
                let kk = (e % (BK / 4u)) * 4u;
                let gn = col0 + n;
                let gk = k0 + kk;
                var v = vec4<f32>(0.0);
                if (gn < N && gk < K) {
                    v = b[(P.off_b + gn * K + gk) >> 2u];
                }
                let i = kk * (BN / 4u) + n / 4u;
                let q = n % 4u;
                Bs[i][q] = v.x;
                Bs[i + BN / 4u][q] = v.y;
                Bs[i + 2u * (BN / 4u)][q] = v.z;
                Bs[i + 3u * (BN / 4u)][q] = v.w;
            } else {
                let kk = e / (BN / 4u);
                let n = (e % (BN / 4u)) * 4u;
                let gn = col0 + n;
                let gk = k0 + kk;
                var v = vec4<f32>(0.0);
                if (gn < N && gk < K) {
                    v = b[(P.off_b + gk * N + gn) >> 2u];
                }
                Bs[kk * (BN / 4u) + n / 4u] = v;
            }
        }
        return;
    }
    for (var e = li; e < BK * BN; e += THREADS) {
        var n: u32;
        var kk: u32;
        if (TRANS_B) { // B is N x K: consecutive threads walk k
            n = e / BK;
            kk = e % BK;
        } else {       // B is K x N: consecutive threads walk n
            kk = e / BN;
            n = e % BN;
        }
        let gn = col0 + n;
        let gk = k0 + kk;
        var v = 0.0;
        if (gn < N && gk < K) {
            if (TRANS_B) {
                v = b_at(P.off_b + gn * K + gk);
            } else {
                v = b_at(P.off_b + gk * N + gn);
            }
        }
        Bs[kk * (BN / 4u) + n / 4u][n % 4u] = v;
    }
}

@compute @workgroup_size(WG_X, WG_Y)
fn matmul(@builtin(workgroup_id) wid: vec3<u32>,
          @builtin(local_invocation_id) lid: vec3<u32>,
          @builtin(local_invocation_index) li: u32) {
    let M = P.m;
    let N = P.n;
    let K = P.k;
    let row0 = wid.y * BM;
    let col0 = wid.x * BN;

    // TM x TN = 8 x 8 accumulators as sixteen vec4s, accRC holding row R's
    // columns 4C .. 4C+3 (explicit registers: no dynamically indexed
    // private arrays, which some compilers spill and SwiftShader gathers).
    var acc00 = vec4<f32>(0.0);
    var acc01 = vec4<f32>(0.0);
    var acc10 = vec4<f32>(0.0);
    var acc11 = vec4<f32>(0.0);
    var acc20 = vec4<f32>(0.0);
    var acc21 = vec4<f32>(0.0);
    var acc30 = vec4<f32>(0.0);
    var acc31 = vec4<f32>(0.0);
    var acc40 = vec4<f32>(0.0);
    var acc41 = vec4<f32>(0.0);
    var acc50 = vec4<f32>(0.0);
    var acc51 = vec4<f32>(0.0);
    var acc60 = vec4<f32>(0.0);
    var acc61 = vec4<f32>(0.0);
    var acc70 = vec4<f32>(0.0);
    var acc71 = vec4<f32>(0.0);

    for (var k0 = 0u; k0 < K; k0 += BK) {
        stage_a(li, row0, k0);
        stage_b(li, col0, k0);
        workgroupBarrier();

        for (var kk = 0u; kk < BK; kk++) {
            let ai = kk * (BM / 4u) + 2u * lid.y;
            let bi = kk * (BN / 4u) + 2u * lid.x;
            let a0 = As[ai];
            let a1 = As[ai + 1u];
            let b0 = Bs[bi];
            let b1 = Bs[bi + 1u];
            acc00 = fma(vec4<f32>(a0.x), b0, acc00);
            acc01 = fma(vec4<f32>(a0.x), b1, acc01);
            acc10 = fma(vec4<f32>(a0.y), b0, acc10);
            acc11 = fma(vec4<f32>(a0.y), b1, acc11);
            acc20 = fma(vec4<f32>(a0.z), b0, acc20);
            acc21 = fma(vec4<f32>(a0.z), b1, acc21);
            acc30 = fma(vec4<f32>(a0.w), b0, acc30);
            acc31 = fma(vec4<f32>(a0.w), b1, acc31);
            acc40 = fma(vec4<f32>(a1.x), b0, acc40);
            acc41 = fma(vec4<f32>(a1.x), b1, acc41);
            acc50 = fma(vec4<f32>(a1.y), b0, acc50);
            acc51 = fma(vec4<f32>(a1.y), b1, acc51);
            acc60 = fma(vec4<f32>(a1.z), b0, acc60);
            acc61 = fma(vec4<f32>(a1.z), b1, acc61);
            acc70 = fma(vec4<f32>(a1.w), b0, acc70);
            acc71 = fma(vec4<f32>(a1.w), b1, acc71);
        }
        workgroupBarrier();
    }

    let has_bias = (P.flags & 1u) != 0u;
    let accumulate = (P.flags & 2u) != 0u;
    let gelu = (P.flags & 16u) != 0u;
    for (var i = 0u; i < TM; i++) {
        let gm = row0 + TM * lid.y + i;
        if (gm >= M) {
            break;
        }
        var lo: vec4<f32>;
        var hi: vec4<f32>;
        switch i {
            case 0u: { lo = acc00; hi = acc01; }
            case 1u: { lo = acc10; hi = acc11; }
            case 2u: { lo = acc20; hi = acc21; }
            case 3u: { lo = acc30; hi = acc31; }
            case 4u: { lo = acc40; hi = acc41; }
            case 5u: { lo = acc50; hi = acc51; }
            case 6u: { lo = acc60; hi = acc61; }
            default: { lo = acc70; hi = acc71; }
        }
        for (var j = 0u; j < TN; j++) {
            let gn = col0 + TN * lid.x + j;
            if (gn >= N) {
                break;
            }
            var v: f32;
            if (j < 4u) {
                v = lo[j];
            } else {
                v = hi[j - 4u];
            }
            if (has_bias) {
                v += bias[P.off_bias + gn];
            }
            let idx = gm * N + gn;
            if (accumulate) {
                v += c[P.off_c + idx];
            }
            c[P.off_c + idx] = v;
            if (gelu) {
                act[P.off_act + idx] = gelu_value(v);
            }
        }
    }
}

// #include erf.wgsl
