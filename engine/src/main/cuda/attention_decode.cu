// Attention for a few rows over a long cache (decode), split over the keys so that a single row still fills the
// device (flash-decoding): attention_decode_partial scores one chunk of AD_CHUNK positions for one (row, head) and
// writes its unnormalised output with the chunk's max and sum; attention_decode_combine rescales and merges the
// chunks. Same inputs as attention_prefill; partial holds [rows][heads][splits][headDim + 2] floats.
#include "common.cuh"

constexpr int AD_CHUNK = 256, AD_MAX_HEAD_DIM = 256;

extern "C" __global__ void attention_decode_partial(const float* q, const float* keys, const float* values, float* partial,
                                                    int startPos, int heads, int kvHeads, int headDim, float scale) {
    __shared__ float scores[AD_CHUNK];
    __shared__ float qs[AD_MAX_HEAD_DIM];
    __shared__ float scratch[32];
    int h = blockIdx.x, split = blockIdx.y, r = blockIdx.z, splits = gridDim.y;
    int qDim = heads * headDim, kvDim = kvHeads * headDim, kvOff = (h / (heads / kvHeads)) * headDim;
    int pos = startPos + r;
    int t0 = split * AD_CHUNK, t1 = min(pos + 1, t0 + AD_CHUNK);
    float* dst = partial + (((long long) r * heads + h) * splits + split) * (headDim + 2);
    if (t0 >= t1) {  // an earlier row of the slice: this chunk lies in its future
        for (int d = threadIdx.x; d < headDim; d += blockDim.x) dst[d] = 0.f;
        if (threadIdx.x == 0) { dst[headDim] = -INFINITY; dst[headDim + 1] = 0.f; }
        return;
    }
    for (int d = threadIdx.x; d < headDim; d += blockDim.x) qs[d] = q[(long long) r * qDim + h * headDim + d];
    __syncthreads();
    float localMax = -INFINITY;
    for (int t = t0 + threadIdx.x; t < t1; t += blockDim.x) {
        const float* k = keys + (long long) t * kvDim + kvOff;
        float dot = 0.f;
        for (int d = 0; d < headDim; d++) dot += qs[d] * k[d];
        float s = dot * scale;
        scores[t - t0] = s;
        localMax = fmaxf(localMax, s);
    }
    float mx = block_max(localMax, scratch);  // its barriers also publish the scores
    float localSum = 0.f;
    for (int t = t0 + threadIdx.x; t < t1; t += blockDim.x) {
        float p = expf(scores[t - t0] - mx);
        scores[t - t0] = p;
        localSum += p;
    }
    float sum = block_sum(localSum, scratch);
    for (int d = threadIdx.x; d < headDim; d += blockDim.x) {
        float acc = 0.f;
        for (int t = t0; t < t1; t++) acc += scores[t - t0] * values[(long long) t * kvDim + kvOff + d];
        dst[d] = acc;
    }
    if (threadIdx.x == 0) { dst[headDim] = mx; dst[headDim + 1] = sum; }
}

extern "C" __global__ void attention_decode_combine(const float* partial, float* out, int heads, int headDim, int splits) {
    int h = blockIdx.x, r = blockIdx.y, stride = headDim + 2;
    const float* base = partial + ((long long) r * heads + h) * splits * stride;
    float mx = -INFINITY;
    for (int s = 0; s < splits; s++) mx = fmaxf(mx, base[s * stride + headDim]);
    float total = 0.f;
    for (int s = 0; s < splits; s++) {
        float ms = base[s * stride + headDim];
        if (ms > -INFINITY) total += base[s * stride + headDim + 1] * expf(ms - mx);
    }
    for (int d = threadIdx.x; d < headDim; d += blockDim.x) {
        float acc = 0.f;
        for (int s = 0; s < splits; s++) {
            float ms = base[s * stride + headDim];
            if (ms > -INFINITY) acc += base[s * stride + d] * expf(ms - mx);
        }
        out[(long long) r * heads * headDim + h * headDim + d] = acc / total;
    }
}
