// out[r] = table[tokens[r]]: one row of `cols` values per token, widened to f32. Token ids are checked on the host.
#include "common.cuh"

template <typename T>
__device__ void embedding(const T* table, const int* tokens, float* out, int rows, int cols) {
    long long total = (long long) rows * cols;
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < total; i += (long long) gridDim.x * blockDim.x) {
        int r = (int) (i / cols), c = (int) (i % cols);
        out[i] = to_float(table[(long long) tokens[r] * cols + c]);
    }
}

extern "C" __global__ void embedding_f32(const float* table, const int* tokens, float* out, int rows, int cols) {
    embedding(table, tokens, out, rows, cols);
}
extern "C" __global__ void embedding_f16(const __half* table, const int* tokens, float* out, int rows, int cols) {
    embedding(table, tokens, out, rows, cols);
}
extern "C" __global__ void embedding_bf16(const __nv_bfloat16* table, const int* tokens, float* out, int rows, int cols) {
    embedding(table, tokens, out, rows, cols);
}
