// The scoring reduction, one block per row of logits, so full logits never leave the device: the k largest logits
// (ties: lower token id first), softmax over them, the target's probability within that truncated distribution
// (0 when outside, flag 0) and its entropy in nats. stats[row] = {probability, in top k (0/1), entropy}.
// Each thread keeps a sorted top k of its strided share of the vocabulary; k rounds of a block-wide argmax merge them.
#include "common.cuh"
#include <climits>

constexpr int TK_THREADS = 256, TK_MAX_K = 16;

// Strict order of (value, id): larger value first, then lower id.
__device__ __forceinline__ bool ranks_before(float v1, int i1, float v2, int i2) {
    return v1 > v2 || (v1 == v2 && i1 < i2);
}

extern "C" __global__ void __launch_bounds__(TK_THREADS)
topk_stats(const float* logits, const int* targets, float* stats, int vocab, int k) {
    __shared__ float warpVal[TK_THREADS / 32];
    __shared__ int warpIdx[TK_THREADS / 32];
    __shared__ float topVal[TK_MAX_K];
    __shared__ int topIdx[TK_MAX_K];
    const float* row = logits + (long long) blockIdx.x * vocab;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;

    float val[TK_MAX_K];
    int idx[TK_MAX_K];
    for (int i = 0; i < TK_MAX_K; i++) { val[i] = -INFINITY; idx[i] = INT_MAX; }
    for (int t = threadIdx.x; t < vocab; t += blockDim.x) {
        float v = row[t];
        if (!ranks_before(v, t, val[k - 1], idx[k - 1])) continue;
        int p = k - 1;
        while (p > 0 && ranks_before(v, t, val[p - 1], idx[p - 1])) { val[p] = val[p - 1]; idx[p] = idx[p - 1]; p--; }
        val[p] = v;
        idx[p] = t;
    }

    int next = 0;  // this thread's first candidate not yet taken
    for (int round = 0; round < k; round++) {
        float v = next < k ? val[next] : -INFINITY;
        int i = next < k ? idx[next] : INT_MAX;
        for (int offset = 16; offset > 0; offset >>= 1) {
            float ov = __shfl_down_sync(0xffffffffu, v, offset);
            int oi = __shfl_down_sync(0xffffffffu, i, offset);
            if (ranks_before(ov, oi, v, i)) { v = ov; i = oi; }
        }
        if (lane == 0) { warpVal[warp] = v; warpIdx[warp] = i; }
        __syncthreads();
        if (threadIdx.x == 0) {
            float bv = warpVal[0];
            int bi = warpIdx[0];
            for (int w = 1; w < TK_THREADS / 32; w++) {
                if (ranks_before(warpVal[w], warpIdx[w], bv, bi)) { bv = warpVal[w]; bi = warpIdx[w]; }
            }
            topVal[round] = bv;
            topIdx[round] = bi;
        }
        __syncthreads();
        if (next < k && idx[next] == topIdx[round]) next++;  // ids are unique: exactly one thread advances
    }

    if (threadIdx.x == 0) {
        int target = targets[blockIdx.x];
        double mx = topVal[0], z = 0.0;
        for (int i = 0; i < k; i++) z += exp((double) topVal[i] - mx);
        double entropy = 0.0, prob = 0.0;
        int in = 0;
        for (int i = 0; i < k; i++) {
            double p = exp((double) topVal[i] - mx) / z;
            if (p > 0) entropy -= p * log(p);
            if (topIdx[i] == target) { prob = p; in = 1; }
        }
        float* s = stats + 3LL * blockIdx.x;
        s[0] = (float) prob;
        s[1] = (float) in;
        s[2] = (float) entropy;
    }
}
