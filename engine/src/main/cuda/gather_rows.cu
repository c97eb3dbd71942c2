// out[i] = src[rows[i]], rows of `cols` floats: picks the positions whose logits are needed.
extern "C" __global__ void gather_rows(const float* src, const int* rows, float* out, int count, int cols) {
    long long total = (long long) count * cols;
    for (long long t = blockIdx.x * (long long) blockDim.x + threadIdx.x; t < total; t += (long long) gridDim.x * blockDim.x) {
        int i = (int) (t / cols), c = (int) (t % cols);
        out[t] = src[(long long) rows[i] * cols + c];
    }
}
