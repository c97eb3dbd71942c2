// Causal grouped-query attention for the rows of one sequence, flash style: a block takes AP_BQ query rows of one
// head, walks the cached keys/values in tiles of AP_BK positions staged in shared memory and keeps an online
// softmax (running max m, running sum l, unnormalised output o) per row, so no score matrix is ever stored.
// A warp owns AP_ROWS_PER_WARP rows; within a tile lane j scores key j, and lane d accumulates output dims
// d, d + 32, ... (head dims up to 32 * AP_DIMS_PER_LANE).
//
// q, out: the sequence's rows [length x heads*headDim]; keys, values: the layer's cache [positions x kvHeads*headDim],
// already holding positions 0 .. startPos + length - 1. Row r sits at position startPos + r and sees keys 0..that.
// Dynamic shared memory: (AP_BQ * headDim + 2 * AP_BK * (headDim + 1)) floats.
#include "common.cuh"

constexpr int AP_WARPS = 4, AP_ROWS_PER_WARP = 8, AP_BQ = AP_WARPS * AP_ROWS_PER_WARP, AP_BK = 32;
constexpr int AP_DIMS_PER_LANE = 8;

extern "C" __global__ void __launch_bounds__(AP_WARPS * 32)
attention_prefill(const float* q, const float* keys, const float* values, float* out, int length, int startPos,
                  int heads, int kvHeads, int headDim, float scale) {
    extern __shared__ float sm[];
    int qDim = heads * headDim, kvDim = kvHeads * headDim;
    int h = blockIdx.y, kvOff = (h / (heads / kvHeads)) * headDim;
    int pitch = headDim + 1;  // odd pitch: lane j reading key j hits a different bank than its neighbours
    float* qs = sm;
    float* ks = qs + AP_BQ * headDim;
    float* vs = ks + AP_BK * pitch;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int row0 = blockIdx.x * AP_BQ;
    int rowsHere = min(AP_BQ, length - row0);
    for (int e = threadIdx.x; e < AP_BQ * headDim; e += blockDim.x) {
        int r = e / headDim, d = e % headDim;
        qs[e] = r < rowsHere ? q[(long long) (row0 + r) * qDim + h * headDim + d] : 0.f;
    }
    float m[AP_ROWS_PER_WARP], l[AP_ROWS_PER_WARP], o[AP_ROWS_PER_WARP][AP_DIMS_PER_LANE];
#pragma unroll
    for (int rr = 0; rr < AP_ROWS_PER_WARP; rr++) {
        m[rr] = -INFINITY;
        l[rr] = 0.f;
#pragma unroll
        for (int i = 0; i < AP_DIMS_PER_LANE; i++) o[rr][i] = 0.f;
    }
    int lastPos = startPos + row0 + rowsHere - 1;  // the block's last row sees the most keys
    for (int t0 = 0; t0 <= lastPos; t0 += AP_BK) {
        __syncthreads();  // the previous tile is consumed (and the queries are staged on the first pass)
        for (int e = threadIdx.x; e < AP_BK * headDim; e += blockDim.x) {
            int j = e / headDim, d = e % headDim, t = t0 + j;
            bool valid = t <= lastPos;
            ks[j * pitch + d] = valid ? keys[(long long) t * kvDim + kvOff + d] : 0.f;
            vs[j * pitch + d] = valid ? values[(long long) t * kvDim + kvOff + d] : 0.f;
        }
        __syncthreads();
#pragma unroll
        for (int rr = 0; rr < AP_ROWS_PER_WARP; rr++) {
            int r = warp * AP_ROWS_PER_WARP + rr;
            int pos = startPos + row0 + r;
            if (r >= rowsHere || t0 > pos) continue;  // warp-uniform: no row, or the whole tile is in its future
            int t = t0 + lane;
            float s = -INFINITY;
            if (t <= pos) {
                float dot = 0.f;
                for (int d = 0; d < headDim; d++) dot += qs[r * headDim + d] * ks[lane * pitch + d];
                s = dot * scale;
            }
            float mNew = fmaxf(m[rr], warp_max(s));  // finite: key t0 <= pos is in this tile
            float p = t <= pos ? expf(s - mNew) : 0.f;
            float correction = expf(m[rr] - mNew);   // 0 on the first tile, where m is -inf
            l[rr] = l[rr] * correction + warp_sum(p);
            m[rr] = mNew;
#pragma unroll
            for (int i = 0; i < AP_DIMS_PER_LANE; i++) o[rr][i] *= correction;
            for (int j = 0; j < AP_BK; j++) {
                float pj = __shfl_sync(0xffffffffu, p, j);
#pragma unroll
                for (int i = 0; i < AP_DIMS_PER_LANE; i++) {
                    int d = lane + 32 * i;
                    if (d < headDim) o[rr][i] += pj * vs[j * pitch + d];
                }
            }
        }
    }
#pragma unroll
    for (int rr = 0; rr < AP_ROWS_PER_WARP; rr++) {
        int r = warp * AP_ROWS_PER_WARP + rr;
        if (r >= rowsHere) continue;
#pragma unroll
        for (int i = 0; i < AP_DIMS_PER_LANE; i++) {
            int d = lane + 32 * i;
            if (d < headDim) out[(long long) (row0 + r) * qDim + h * headDim + d] = o[rr][i] / l[rr];
        }
    }
}
