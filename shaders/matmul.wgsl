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
const DIRECT_THREADS = 8u; // matmul_direct: a workgroup's 64 columns

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
    let K = P.k;
    let row0 = wid.y * BM;
    let col0 = wid.x * BN;

    var acc: Block;
    for (var k0 = 0u; k0 < K; k0 += BK) {
        stage_a(li, row0, k0);
        stage_b(li, col0, k0);
        workgroupBarrier();

        for (var kk = 0u; kk < BK; kk++) {
            let ai = kk * (BM / 4u) + 2u * lid.y;
            let bi = kk * (BN / 4u) + 2u * lid.x;
            outer(&acc, As[ai], As[ai + 1u], Bs[bi], Bs[bi + 1u]);
        }
        workgroupBarrier();
    }
    store_block(&acc, row0 + TM * lid.y, col0 + TN * lid.x);
}

// matmul_direct computes the same product for software adapters, for
// any transposes, when both operands are read as vec4 (flags bits 2 and 3)
// and K is a multiple of 4. Thread lid.x of workgroup (wx, wy) computes
// rows 8*wy .. +7 and columns 64*wx + 8*lid.x .. +7 straight from the
// storage buffers, four k at a time (a_slab, b_slab: sixteen vec4 loads,
// transposed in registers where an operand is stored along K, then four
// outer products), with no workgroup memory and no barriers: on a CPU,
// workgroup memory is ordinary memory, so staging tiles only adds loads,
// stores and barrier switches, and SwiftShader zero-initialises workgroup
// memory with one store per element written into the compiled shader
// (matmul's 1,536 floats of tiles cost ~0.4 s of its ~0.55 s compile). The
// sums are matmul's, k by k, so both kernels give the same bits. Rows
// (columns) past the matrix read rows (columns) inside it and are not
// stored.
@compute @workgroup_size(DIRECT_THREADS)
fn matmul_direct(@builtin(workgroup_id) wid: vec3<u32>,
                 @builtin(local_invocation_id) lid: vec3<u32>) {
    let row0 = wid.y * TM;
    let gn0 = wid.x * (DIRECT_THREADS * TN) + lid.x * TN;
    if (gn0 >= P.n) {
        return;
    }
    var acc: Block;
    for (var k4 = 0u; k4 < P.k / 4u; k4++) {
        let x = a_slab(k4, row0);
        let y = b_slab(k4, gn0);
        outer(&acc, x.k0a, x.k0b, y.k0a, y.k0b);
        outer(&acc, x.k1a, x.k1b, y.k1a, y.k1b);
        outer(&acc, x.k2a, x.k2b, y.k2a, y.k2b);
        outer(&acc, x.k3a, x.k3b, y.k3a, y.k3b);
    }
    store_block(&acc, row0, gn0);
}

// Slab is a thread's 8 rows of op(A) (or 8 columns of op(B)) at the four
// k = 4*k4 + J: kJa holds the first four, kJb the last four.
struct Slab {
    k0a: vec4<f32>, k0b: vec4<f32>,
    k1a: vec4<f32>, k1b: vec4<f32>,
    k2a: vec4<f32>, k2b: vec4<f32>,
    k3a: vec4<f32>, k3b: vec4<f32>,
}

// along_k turns eight vec4s, each four consecutive k of one row (column),
// into a Slab.
fn along_k(x0: vec4<f32>, x1: vec4<f32>, x2: vec4<f32>, x3: vec4<f32>,
           x4: vec4<f32>, x5: vec4<f32>, x6: vec4<f32>, x7: vec4<f32>) -> Slab {
    return Slab(vec4<f32>(x0.x, x1.x, x2.x, x3.x), vec4<f32>(x4.x, x5.x, x6.x, x7.x),
                vec4<f32>(x0.y, x1.y, x2.y, x3.y), vec4<f32>(x4.y, x5.y, x6.y, x7.y),
                vec4<f32>(x0.z, x1.z, x2.z, x3.z), vec4<f32>(x4.z, x5.z, x6.z, x7.z),
                vec4<f32>(x0.w, x1.w, x2.w, x3.w), vec4<f32>(x4.w, x5.w, x6.w, x7.w));
}

// a_slab reads op(A)'s rows row0 .. row0+7 at k = 4*k4 .. +3. A stored
// M x K: one vec4 per row (rows past M read row M-1); stored K x M
// (TRANS_A; M a multiple of 4): two vec4s per k (rows past M, a whole
// vec4 of them, read rows M-4 .. M-1).
fn a_slab(k4: u32, row0: u32) -> Slab {
    let M = P.m;
    if (TRANS_A) {
        let r4 = min(row0 + 4u, M - 4u);
        let k0 = P.off_a + 4u * k4 * M;
        return Slab(a[(k0 + row0) >> 2u], a[(k0 + r4) >> 2u],
                    a[(k0 + M + row0) >> 2u], a[(k0 + M + r4) >> 2u],
                    a[(k0 + 2u * M + row0) >> 2u], a[(k0 + 2u * M + r4) >> 2u],
                    a[(k0 + 3u * M + row0) >> 2u], a[(k0 + 3u * M + r4) >> 2u]);
    }
    let K = P.k;
    let first = P.off_a + 4u * k4;
    return along_k(a[(first + min(row0, M - 1u) * K) >> 2u], a[(first + min(row0 + 1u, M - 1u) * K) >> 2u],
                   a[(first + min(row0 + 2u, M - 1u) * K) >> 2u], a[(first + min(row0 + 3u, M - 1u) * K) >> 2u],
                   a[(first + min(row0 + 4u, M - 1u) * K) >> 2u], a[(first + min(row0 + 5u, M - 1u) * K) >> 2u],
                   a[(first + min(row0 + 6u, M - 1u) * K) >> 2u], a[(first + min(row0 + 7u, M - 1u) * K) >> 2u]);
}

// b_slab reads op(B)'s columns gn0 .. gn0+7 at k = 4*k4 .. +3. B stored
// N x K (TRANS_B): one vec4 per column (columns past N read column N-1);
// stored K x N (N a multiple of 4): two vec4s per k (columns past N, a
// whole vec4 of them, read columns N-4 .. N-1).
fn b_slab(k4: u32, gn0: u32) -> Slab {
    let N = P.n;
    if (TRANS_B) {
        let K = P.k;
        let first = P.off_b + 4u * k4;
        return along_k(b[(first + min(gn0, N - 1u) * K) >> 2u], b[(first + min(gn0 + 1u, N - 1u) * K) >> 2u],
                       b[(first + min(gn0 + 2u, N - 1u) * K) >> 2u], b[(first + min(gn0 + 3u, N - 1u) * K) >> 2u],
                       b[(first + min(gn0 + 4u, N - 1u) * K) >> 2u], b[(first + min(gn0 + 5u, N - 1u) * K) >> 2u],
                       b[(first + min(gn0 + 6u, N - 1u) * K) >> 2u], b[(first + min(gn0 + 7u, N - 1u) * K) >> 2u]);
    }
    let c4 = min(gn0 + 4u, N - 4u);
    let k0 = P.off_b + 4u * k4 * N;
    return Slab(b[(k0 + gn0) >> 2u], b[(k0 + c4) >> 2u],
                b[(k0 + N + gn0) >> 2u], b[(k0 + N + c4) >> 2u],
                b[(k0 + 2u * N + gn0) >> 2u], b[(k0 + 2u * N + c4) >> 2u],
                b[(k0 + 3u * N + gn0) >> 2u], b[(k0 + 3u * N + c4) >> 2u]);
}

// Block is a thread's TM x TN = 8 x 8 accumulators as sixteen vec4s, rR_
// holding row R's columns 0..3 (a) and 4..7 (b): explicit registers, no
// dynamically indexed private arrays (which some compilers spill and
// SwiftShader gathers lane by lane).
struct Block {
    r0a: vec4<f32>, r0b: vec4<f32>,
    r1a: vec4<f32>, r1b: vec4<f32>,
    r2a: vec4<f32>, r2b: vec4<f32>,
    r3a: vec4<f32>, r3b: vec4<f32>,
    r4a: vec4<f32>, r4b: vec4<f32>,
    r5a: vec4<f32>, r5b: vec4<f32>,
    r6a: vec4<f32>, r6b: vec4<f32>,
    r7a: vec4<f32>, r7b: vec4<f32>,
}

// outer adds the outer product of one k's column of the block's rows
// (ra: rows 0..3, rb: rows 4..7) and row of its columns (ca: columns 0..3,
// cb: 4..7) to acc, one fma per element.
fn outer(acc: ptr<function, Block>, ra: vec4<f32>, rb: vec4<f32>, ca: vec4<f32>, cb: vec4<f32>) {
    (*acc).r0a = fma(vec4<f32>(ra.x), ca, (*acc).r0a);
    (*acc).r0b = fma(vec4<f32>(ra.x), cb, (*acc).r0b);
    (*acc).r1a = fma(vec4<f32>(ra.y), ca, (*acc).r1a);
    (*acc).r1b = fma(vec4<f32>(ra.y), cb, (*acc).r1b);
    (*acc).r2a = fma(vec4<f32>(ra.z), ca, (*acc).r2a);
    (*acc).r2b = fma(vec4<f32>(ra.z), cb, (*acc).r2b);
    (*acc).r3a = fma(vec4<f32>(ra.w), ca, (*acc).r3a);
    (*acc).r3b = fma(vec4<f32>(ra.w), cb, (*acc).r3b);
    (*acc).r4a = fma(vec4<f32>(rb.x), ca, (*acc).r4a);
    (*acc).r4b = fma(vec4<f32>(rb.x), cb, (*acc).r4b);
    (*acc).r5a = fma(vec4<f32>(rb.y), ca, (*acc).r5a);
    (*acc).r5b = fma(vec4<f32>(rb.y), cb, (*acc).r5b);
    (*acc).r6a = fma(vec4<f32>(rb.z), ca, (*acc).r6a);
    (*acc).r6b = fma(vec4<f32>(rb.z), cb, (*acc).r6b);
    (*acc).r7a = fma(vec4<f32>(rb.w), ca, (*acc).r7a);
    (*acc).r7b = fma(vec4<f32>(rb.w), cb, (*acc).r7b);
}

// store_block writes the block of rows gm0 .. gm0+7 and columns gn0 ..
// gn0+7 (those inside C) with the bias, accumulation and GELU epilogue
// that P.flags asks for.
fn store_block(acc: ptr<function, Block>, gm0: u32, gn0: u32) {
    let has_bias = (P.flags & 1u) != 0u;
    let accumulate = (P.flags & 2u) != 0u;
    let gelu = (P.flags & 16u) != 0u;
    for (var i = 0u; i < TM; i++) {
        let gm = gm0 + i;
        if (gm >= P.m) {
            break;
        }
        var lo: vec4<f32>;
        var hi: vec4<f32>;
        switch i {
            case 0u: { lo = (*acc).r0a; hi = (*acc).r0b; }
            case 1u: { lo = (*acc).r1a; hi = (*acc).r1b; }
            case 2u: { lo = (*acc).r2a; hi = (*acc).r2b; }
            case 3u: { lo = (*acc).r3a; hi = (*acc).r3b; }
            case 4u: { lo = (*acc).r4a; hi = (*acc).r4b; }
            case 5u: { lo = (*acc).r5a; hi = (*acc).r5b; }
            case 6u: { lo = (*acc).r6a; hi = (*acc).r6b; }
            default: { lo = (*acc).r7a; hi = (*acc).r7b; }
        }
        for (var j = 0u; j < TN; j++) {
            let gn = gn0 + j;
            if (gn >= P.n) {
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
            let idx = gm * P.n + gn;
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
