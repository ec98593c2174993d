// matmul.wgsl: C = op(A) op(B) (+ bias), or C += that with accumulate.
//
// Layouts (row-major, f32, element offsets off_* into each binding):
//   C    M x N
//   A    M x K, or K x M when TRANS_A (op(A) = A^T)
//   B    K x N, or N x K when TRANS_B (op(B) = B^T)
//   bias N (flags bit 0), added to every row of the product
// flags bit 1: accumulate (C += product + bias) instead of overwrite.
//
// One workgroup computes a BM x BN tile of C. K is walked in steps of BK:
// the BM x BK slab of op(A) and the BK x BN slab of op(B) are staged in
// workgroup memory (zero-padded outside the matrices, so every shape works),
// then each of the WG_X x WG_Y threads accumulates a TM x TN register block
// (four vec4 rows): rows lid.y + i*WG_Y and columns lid.x + j*WG_X of the
// tile (strided so that neighbouring threads read neighbouring
// workgroup-memory words).
//
// TRANS_A and TRANS_B are specialised by engine/gpu (it rewrites the two
// `const` lines); the global loads are arranged so that consecutive threads
// read consecutive addresses for either storage order.

const TRANS_A = false;
const TRANS_B = false;

const BM = 64u;
const BN = 64u;
const BK = 16u;
const TM = 4u; // the vec4 accumulators below assume TM = TN = 4
const TN = 4u;
const WG_X = 16u; // BN / TN
const WG_Y = 16u; // BM / TM
const THREADS = 256u; // WG_X * WG_Y

struct Params {
    m: u32,
    n: u32,
    k: u32,
    flags: u32,
    off_c: u32,
    off_a: u32,
    off_b: u32,
    off_bias: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> c: array<f32>;
// Read-only: a weight and its bias are views of one parameter buffer, and
// browsers accept overlapping bindings of a buffer only when read-only.
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;

var<workgroup> As: array<f32, BK * BM>; // As[k * BM + m]
var<workgroup> Bs: array<f32, BK * BN>; // Bs[k * BN + n]

@compute @workgroup_size(WG_X, WG_Y)
fn matmul(@builtin(workgroup_id) wid: vec3<u32>,
          @builtin(local_invocation_id) lid: vec3<u32>,
          @builtin(local_invocation_index) li: u32) {
    let M = P.m;
    let N = P.n;
    let K = P.k;
    let row0 = wid.y * BM;
    let col0 = wid.x * BN;

    // TM x TN = 4 x 4 accumulators as four vec4 rows (explicit registers:
    // no dynamically indexed private arrays, which some compilers spill).
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);

    for (var k0 = 0u; k0 < K; k0 += BK) {
        // Stage op(A)[row0 .. row0+BM, k0 .. k0+BK].
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
                    v = a[P.off_a + gk * M + gm];
                } else {
                    v = a[P.off_a + gm * K + gk];
                }
            }
            As[kk * BM + m] = v;
        }
        // Stage op(B)[k0 .. k0+BK, col0 .. col0+BN].
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
                    v = b[P.off_b + gn * K + gk];
                } else {
                    v = b[P.off_b + gk * N + gn];
                }
            }
            Bs[kk * BN + n] = v;
        }
        workgroupBarrier();

        for (var kk = 0u; kk < BK; kk++) {
            let ar = kk * BM + lid.y;
            let br = kk * BN + lid.x;
            let bv = vec4<f32>(Bs[br], Bs[br + WG_X], Bs[br + 2u * WG_X], Bs[br + 3u * WG_X]);
            acc0 = fma(vec4<f32>(As[ar]), bv, acc0);
            acc1 = fma(vec4<f32>(As[ar + WG_Y]), bv, acc1);
            acc2 = fma(vec4<f32>(As[ar + 2u * WG_Y]), bv, acc2);
            acc3 = fma(vec4<f32>(As[ar + 3u * WG_Y]), bv, acc3);
        }
        workgroupBarrier();
    }

    let has_bias = (P.flags & 1u) != 0u;
    let accumulate = (P.flags & 2u) != 0u;
    for (var i = 0u; i < TM; i++) {
        let gm = row0 + lid.y + i * WG_Y;
        if (gm >= M) {
            break;
        }
        var row: vec4<f32>;
        switch i {
            case 0u: { row = acc0; }
            case 1u: { row = acc1; }
            case 2u: { row = acc2; }
            default: { row = acc3; }
        }
        for (var j = 0u; j < TN; j++) {
            let gn = col0 + lid.x + j * WG_X;
            if (gn >= N) {
                break;
            }
            var v = row[j];
            if (has_bias) {
                v += bias[P.off_bias + gn];
            }
            let idx = P.off_c + gm * N + gn;
            if (accumulate) {
                v += c[idx];
            }
            c[idx] = v;
        }
    }
}
