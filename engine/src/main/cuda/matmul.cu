// out[M x N] = x[M x K] . w[N x K]^T (+ bias[N]): activations f32, weights in their stored dtype, f32 accumulation.
// Three kernels, chosen on the host by the number of rows and the weight dtype (where cuBLASLt is present it takes
// the many-row bf16 case, its activations rounded by f32_to_bf16 at the end of this file):
//   gemv_*       M <= GEMV_MAX_ROWS (decode): memory bound, one warp per output column reads its weight row once
//                for every input row; f32 multiply-adds, so decode is as exact as the CPU reference.
//   matmul_tc_*  f16/bf16 weights, more rows (prefill): tensor cores (WMMA 16x16x16), activations rounded to the
//                weight dtype as PyTorch does for a bf16/f16 model, products accumulated in f32.
//   matmul_f32   f32 weights, more rows: a shared-memory tiled f32 kernel.
#include "common.cuh"
#include <mma.h>
using namespace nvcuda;

// ---------------------------------------------------------------- gemv (few rows)

constexpr int GEMV_MAX_ROWS = 8;
constexpr int GEMV_WARPS = 8;  // per block of 256 threads: 8 output columns per block

// Eight consecutive weights widened to f32; p is 16-byte aligned.
__device__ __forceinline__ void load8(const float* p, float* v) {
    float4 a = reinterpret_cast<const float4*>(p)[0], b = reinterpret_cast<const float4*>(p)[1];
    v[0] = a.x; v[1] = a.y; v[2] = a.z; v[3] = a.w; v[4] = b.x; v[5] = b.y; v[6] = b.z; v[7] = b.w;
}
__device__ __forceinline__ void load8(const __half* p, float* v) {
    uint4 raw = *reinterpret_cast<const uint4*>(p);
    const __half2* h = reinterpret_cast<const __half2*>(&raw);
    for (int i = 0; i < 4; i++) { float2 f = __half22float2(h[i]); v[2 * i] = f.x; v[2 * i + 1] = f.y; }
}
__device__ __forceinline__ void load8(const __nv_bfloat16* p, float* v) {
    uint4 raw = *reinterpret_cast<const uint4*>(p);
    const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&raw);
    for (int i = 0; i < 4; i++) { float2 f = __bfloat1622float2(h[i]); v[2 * i] = f.x; v[2 * i + 1] = f.y; }
}

template <typename T>
__device__ void gemv(const float* x, const T* w, const float* bias, float* out, int M, int N, int K) {
    int lane = threadIdx.x & 31;
    int n = blockIdx.x * GEMV_WARPS + (threadIdx.x >> 5);
    if (n >= N) return;  // the whole warp leaves; nothing below synchronises the block
    const T* wr = w + (long long) n * K;
    float acc[GEMV_MAX_ROWS];
#pragma unroll
    for (int m = 0; m < GEMV_MAX_ROWS; m++) acc[m] = 0.f;
    if (K % 8 == 0) {
        // 16-byte loads: a warp reads 256 consecutive weights per step (rows are 16-byte aligned when K % 8 == 0)
        for (int k = lane * 8; k < K; k += 256) {
            float wv[8];
            load8(wr + k, wv);
#pragma unroll
            for (int m = 0; m < GEMV_MAX_ROWS; m++) {
                if (m < M) {
                    float xv[8];
                    load8(x + (long long) m * K + k, xv);
#pragma unroll
                    for (int i = 0; i < 8; i++) acc[m] += xv[i] * wv[i];
                }
            }
        }
    } else {
        for (int k = lane; k < K; k += 32) {
            float wv = to_float(wr[k]);
#pragma unroll
            for (int m = 0; m < GEMV_MAX_ROWS; m++) if (m < M) acc[m] += x[(long long) m * K + k] * wv;
        }
    }
    float b = bias ? bias[n] : 0.f;
#pragma unroll
    for (int m = 0; m < GEMV_MAX_ROWS; m++) {
        if (m < M) {
            float s = warp_sum(acc[m]);
            if (lane == 0) out[(long long) m * N + n] = s + b;
        }
    }
}

extern "C" __global__ void gemv_f32(const float* x, const float* w, const float* bias, float* out, int M, int N, int K) {
    gemv(x, w, bias, out, M, N, K);
}
extern "C" __global__ void gemv_f16(const float* x, const __half* w, const float* bias, float* out, int M, int N, int K) {
    gemv(x, w, bias, out, M, N, K);
}
extern "C" __global__ void gemv_bf16(const float* x, const __nv_bfloat16* w, const float* bias, float* out, int M, int N, int K) {
    gemv(x, w, bias, out, M, N, K);
}

// ---------------------------------------------------------------- tensor cores (f16/bf16 weights)

constexpr int TC_BM = 128, TC_BN = 128, TC_BK = 32;
constexpr int TC_LD = TC_BK + 8;  // row pitch in shared memory: a multiple of 8 for WMMA, skewed against bank conflicts
constexpr int TC_THREADS = 256;   // 8 warps: 4 along M x 2 along N, each computing 32 x 64

template <typename T> __device__ __forceinline__ T from_float(float v);
template <> __device__ __forceinline__ __half from_float<__half>(float v) { return __float2half_rn(v); }
template <> __device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

// One thread's share of a K-tile on its way from global to shared memory: 16 activations and 16 weights.
template <typename T>
struct TileStage {
    float a[16];
    alignas(16) T b[16];  // read and written 16 bytes at a time on the vector path

    // Vector path (K % 8 == 0): 4 float4 of x and 2 x 16 bytes of w; element e of a/b maps to (row, col) below.
    __device__ __forceinline__ void load(const float* x, const T* w, int M, int N, int K, int m0, int n0, int k0, bool vec) {
        int tid = threadIdx.x;
        if (vec) {
#pragma unroll
            for (int v = 0; v < 4; v++) {
                int id = tid + v * TC_THREADS, r = id / (TC_BK / 4), c = (id % (TC_BK / 4)) * 4;
                int gm = m0 + r, gk = k0 + c;
                float4 f = (gm < M && gk < K) ? *reinterpret_cast<const float4*>(x + (long long) gm * K + gk)
                                              : make_float4(0.f, 0.f, 0.f, 0.f);
                a[4 * v] = f.x; a[4 * v + 1] = f.y; a[4 * v + 2] = f.z; a[4 * v + 3] = f.w;
            }
#pragma unroll
            for (int v = 0; v < 2; v++) {
                int id = tid + v * TC_THREADS, r = id / (TC_BK / 8), c = (id % (TC_BK / 8)) * 8;
                int gn = n0 + r, gk = k0 + c;
                uint4 raw = (gn < N && gk < K) ? *reinterpret_cast<const uint4*>(w + (long long) gn * K + gk)
                                               : make_uint4(0u, 0u, 0u, 0u);
                *reinterpret_cast<uint4*>(&b[8 * v]) = raw;
            }
        } else {
#pragma unroll
            for (int e = 0; e < 16; e++) {
                int id = tid + e * TC_THREADS, r = id / TC_BK, c = id % TC_BK;
                int gm = m0 + r, gn = n0 + r, gk = k0 + c;
                a[e] = (gm < M && gk < K) ? x[(long long) gm * K + gk] : 0.f;
                b[e] = (gn < N && gk < K) ? w[(long long) gn * K + gk] : from_float<T>(0.f);
            }
        }
    }

    __device__ __forceinline__ void store(T* As, T* Bs, bool vec) {
        int tid = threadIdx.x;
        if (vec) {
#pragma unroll
            for (int v = 0; v < 4; v++) {
                int id = tid + v * TC_THREADS, r = id / (TC_BK / 4), c = (id % (TC_BK / 4)) * 4;
#pragma unroll
                for (int i = 0; i < 4; i++) As[r * TC_LD + c + i] = from_float<T>(a[4 * v + i]);
            }
#pragma unroll
            for (int v = 0; v < 2; v++) {
                int id = tid + v * TC_THREADS, r = id / (TC_BK / 8), c = (id % (TC_BK / 8)) * 8;
                *reinterpret_cast<uint4*>(&Bs[r * TC_LD + c]) = *reinterpret_cast<const uint4*>(&b[8 * v]);
            }
        } else {
#pragma unroll
            for (int e = 0; e < 16; e++) {
                int id = tid + e * TC_THREADS, r = id / TC_BK, c = id % TC_BK;
                As[r * TC_LD + c] = from_float<T>(a[e]);
                Bs[r * TC_LD + c] = b[e];
            }
        }
    }
};

template <typename T>
__device__ void matmul_tc(const float* x, const T* w, const float* bias, float* out, int M, int N, int K) {
    // two buffers of the A tile (x, [BM][LD]) and the B tile (w rows, [BN][LD]): 40 KiB
    __shared__ __align__(128) unsigned char smem[2 * (TC_BM + TC_BN) * TC_LD * sizeof(T)];
    T* As = reinterpret_cast<T*>(smem);
    T* Bs = As + 2 * TC_BM * TC_LD;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int warpM = warp / 2, warpN = warp % 2;
    int m0 = blockIdx.y * TC_BM, n0 = blockIdx.x * TC_BN;
    bool vec = K % 8 == 0;

    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[2][4];
#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) wmma::fill_fragment(acc[i][j], 0.f);

    TileStage<T> stage;
    int tiles = (K + TC_BK - 1) / TC_BK;
    stage.load(x, w, M, N, K, m0, n0, 0, vec);
    stage.store(As, Bs, vec);
    __syncthreads();
    for (int t = 0; t < tiles; t++) {
        int cur = t & 1;
        // fetch the next tile into registers while the tensor cores work on the current one
        if (t + 1 < tiles) stage.load(x, w, M, N, K, m0, n0, (t + 1) * TC_BK, vec);
        const T* A = As + cur * TC_BM * TC_LD;
        const T* B = Bs + cur * TC_BN * TC_LD;
#pragma unroll
        for (int kk = 0; kk < TC_BK; kk += 16) {
            wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> af[2];
            // B[k][n] = w[n][k]: the w tile stored row by row is B in column-major order
            wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> bf[4];
#pragma unroll
            for (int i = 0; i < 2; i++) wmma::load_matrix_sync(af[i], A + (warpM * 32 + i * 16) * TC_LD + kk, TC_LD);
#pragma unroll
            for (int j = 0; j < 4; j++) wmma::load_matrix_sync(bf[j], B + (warpN * 64 + j * 16) * TC_LD + kk, TC_LD);
#pragma unroll
            for (int i = 0; i < 2; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) wmma::mma_sync(acc[i][j], af[i], bf[j], acc[i][j]);
        }
        // the other buffer was last read before the previous barrier: safe to overwrite now
        if (t + 1 < tiles) stage.store(As + (1 - cur) * TC_BM * TC_LD, Bs + (1 - cur) * TC_BN * TC_LD, vec);
        __syncthreads();
    }

    // epilogue through a per-warp 16x16 f32 scratch (reusing the tiles' memory) for bounds checks and the bias
    float* scratch = reinterpret_cast<float*>(smem) + warp * 256;
#pragma unroll
    for (int i = 0; i < 2; i++) {
#pragma unroll
        for (int j = 0; j < 4; j++) {
            wmma::store_matrix_sync(scratch, acc[i][j], 16, wmma::mem_row_major);
            __syncwarp();
            for (int e = lane; e < 256; e += 32) {
                int gm = m0 + warpM * 32 + i * 16 + e / 16, gn = n0 + warpN * 64 + j * 16 + e % 16;
                if (gm < M && gn < N) out[(long long) gm * N + gn] = scratch[e] + (bias ? bias[gn] : 0.f);
            }
            __syncwarp();
        }
    }
}

extern "C" __global__ void __launch_bounds__(TC_THREADS)
matmul_tc_f16(const float* x, const __half* w, const float* bias, float* out, int M, int N, int K) {
    matmul_tc(x, w, bias, out, M, N, K);
}
extern "C" __global__ void __launch_bounds__(TC_THREADS)
matmul_tc_bf16(const float* x, const __nv_bfloat16* w, const float* bias, float* out, int M, int N, int K) {
    matmul_tc(x, w, bias, out, M, N, K);
}

// ---------------------------------------------------------------- f32 weights

constexpr int F32_BM = 64, F32_BN = 64, F32_BK = 16;  // 256 threads, 4 x 4 outputs each

extern "C" __global__ void __launch_bounds__(256)
matmul_f32(const float* x, const float* w, const float* bias, float* out, int M, int N, int K) {
    __shared__ float As[F32_BK][F32_BM + 1];  // As[k][m] = x[m0 + m][k0 + k]
    __shared__ float Bs[F32_BK][F32_BN + 1];  // Bs[k][n] = w[n0 + n][k0 + k]
    int tid = threadIdx.x, tx = tid % 16, ty = tid / 16;
    int m0 = blockIdx.y * F32_BM, n0 = blockIdx.x * F32_BN;
    float acc[4][4] = {};
    for (int k0 = 0; k0 < K; k0 += F32_BK) {
        for (int e = tid; e < F32_BM * F32_BK; e += 256) {
            int r = e / F32_BK, c = e % F32_BK, gk = k0 + c;
            As[c][r] = (m0 + r < M && gk < K) ? x[(long long) (m0 + r) * K + gk] : 0.f;
            Bs[c][r] = (n0 + r < N && gk < K) ? w[(long long) (n0 + r) * K + gk] : 0.f;
        }
        __syncthreads();
#pragma unroll
        for (int k = 0; k < F32_BK; k++) {
            float a[4], b[4];
#pragma unroll
            for (int i = 0; i < 4; i++) { a[i] = As[k][ty + 16 * i]; b[i] = Bs[k][tx + 16 * i]; }
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] += a[i] * b[j];
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; i++) {
#pragma unroll
        for (int j = 0; j < 4; j++) {
            int gm = m0 + ty + 16 * i, gn = n0 + tx + 16 * j;
            if (gm < M && gn < N) out[(long long) gm * N + gn] = acc[i][j] + (bias ? bias[gn] : 0.f);
        }
    }
}

// ---------------------------------------------------------------- activations for cuBLASLt

// y[i] = x[i] rounded to bf16 (to nearest, ties to even): cuBLASLt multiplies bf16 by bf16, so the f32 activations
// are rounded once per matmul, exactly as the tensor-core kernel above rounds them into its tiles.
extern "C" __global__ void f32_to_bf16(const float* x, __nv_bfloat16* y, long long n) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        y[i] = __float2bfloat16_rn(x[i]);
    }
}
