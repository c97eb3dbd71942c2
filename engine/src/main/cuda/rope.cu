// Rotary embedding in place, rotate-half layout: pairs (i, i + headDim/2) of every head of every row turn by
// positions[row] * invFreq[i]. The angle is rounded to f32 first and sincosf is the accurate (not the fast) one,
// as the CPU reference does.
#include "common.cuh"

extern "C" __global__ void rope(float* x, const int* positions, const float* invFreq, int rows, int heads, int headDim) {
    int half = headDim / 2;
    long long total = (long long) rows * heads * half;
    for (long long t = blockIdx.x * (long long) blockDim.x + threadIdx.x; t < total; t += (long long) gridDim.x * blockDim.x) {
        int i = (int) (t % half);
        long long rowHead = t / half;
        int r = (int) (rowHead / heads);
        float angle = (float) positions[r] * invFreq[i];
        float s, c;
        sincosf(angle, &s, &c);
        float* base = x + rowHead * headDim;
        float x0 = base[i], x1 = base[i + half];
        base[i] = x0 * c - x1 * s;
        base[i + half] = x1 * c + x0 * s;
    }
}
