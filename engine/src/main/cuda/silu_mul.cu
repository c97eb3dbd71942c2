// gate[i] = silu(gate[i]) * up[i], the SwiGLU of the MLP (same formula as the CPU reference).
extern "C" __global__ void silu_mul(float* gate, const float* up, long long n) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        float g = gate[i];
        gate[i] = g / (1.f + expf(-g)) * up[i];
    }
}
