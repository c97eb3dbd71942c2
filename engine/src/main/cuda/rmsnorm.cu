// out[r] = x[r] / sqrt(mean(x[r]^2) + eps) * weight, one block per row. out may alias x: every element is read
// (for the sum) before the block synchronises, and written afterwards only by the thread that read it.
#include "common.cuh"

extern "C" __global__ void rmsnorm(const float* x, const float* weight, float* out, int n, float eps) {
    __shared__ float scratch[32];
    const float* row = x + (long long) blockIdx.x * n;
    float* dst = out + (long long) blockIdx.x * n;
    float ss = 0.f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) ss += row[i] * row[i];
    ss = block_sum(ss, scratch);
    float scale = rsqrtf(ss / n + eps);
    for (int i = threadIdx.x; i < n; i += blockDim.x) dst[i] = row[i] * scale * weight[i];
}
