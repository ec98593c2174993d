// reduce.wgsl: column sums (bias gradients, batch sums of a token row).
//
//   dst[j] (+)= sum_{r < rows} src[r * stride + j],  j < cols
//
// Layout: src rows of `stride` elements starting at element offset off_src
// (stride == cols for a dense rows x cols matrix; a larger stride sums one
// row per sample of a (B, T, D) tensor); dst has cols elements at off_dst.
// flags bit 0: accumulate into dst instead of overwriting.
//
// One workgroup owns COLS consecutive columns; its COLS x LANES threads split
// the rows: thread (x, y) sums rows y, y + LANES, ... of column x, then the
// LANES partial sums of each column are added in workgroup memory in a fixed
// order (deterministic, no atomics).

const COLS = 32u;
const LANES = 8u;

struct Params {
    rows: u32,
    cols: u32,
    stride: u32,
    flags: u32,
    off_dst: u32,
    off_src: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<storage, read_write> src: array<f32>;

var<workgroup> partial: array<f32, COLS * LANES>;

@compute @workgroup_size(COLS, LANES)
fn column_sum(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let col = wid.x * COLS + lid.x;
    var s = 0.0;
    if (col < P.cols) {
        for (var r = lid.y; r < P.rows; r += LANES) {
            s += src[P.off_src + r * P.stride + col];
        }
    }
    partial[lid.y * COLS + lid.x] = s;
    workgroupBarrier();
    if (lid.y == 0u && col < P.cols) {
        var t = 0.0;
        for (var y = 0u; y < LANES; y++) {
            t += partial[y * COLS + lid.x];
        }
        if ((P.flags & 1u) != 0u) {
            t += dst[P.off_dst + col];
        }
        dst[P.off_dst + col] = t;
    }
}
