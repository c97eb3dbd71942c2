package io.sn11.engine.backend.cuda;

import io.sn11.engine.safetensors.DType;

/**
 * Launch geometry of the kernels: the constants mirror those in {@code src/main/cuda/*.cu} and are the one place the
 * Java side knows them.
 */
final class CudaLaunch {
    private CudaLaunch() {}

    static final int THREADS = 256;
    /** Grid-stride kernels stop growing the grid here; more blocks would only add scheduling. */
    static final int MAX_STRIDE_BLOCKS = 65536;

    static final int GEMV_MAX_ROWS = 8, GEMV_COLUMNS_PER_BLOCK = 8;
    static final int TC_TILE = 128, F32_TILE = 64;

    static final int PREFILL_ROWS_PER_BLOCK = 32, PREFILL_KEYS_PER_TILE = 32, PREFILL_THREADS = 128;
    static final int MAX_HEAD_DIM = 256;
    /** Slices of at most this many rows take the split-over-keys decode kernels. */
    static final int DECODE_MAX_ROWS = 4;
    static final int DECODE_CHUNK = 256, DECODE_THREADS = 128;

    static final int TOPK_MAX_K = 16;

    static int ceilDiv(long n, int d) { return Math.toIntExact((n + d - 1) / d); }

    /** Blocks of {@link #THREADS} for a grid-stride loop over n elements. */
    static int strideBlocks(long n) { return (int) Math.max(1, Math.min(MAX_STRIDE_BLOCKS, (n + THREADS - 1) / THREADS)); }

    /** Which matmul kernel computes {@code rows} rows against a weight stored (on the device) as {@code dtype}. */
    static CudaKernel matmulKernel(int rows, DType dtype) {
        if (rows <= GEMV_MAX_ROWS) return CudaKernel.byDtype(CudaKernel.GEMV_F32, dtype);
        return switch (dtype) {
            case F32 -> CudaKernel.MATMUL_F32;
            case F16 -> CudaKernel.MATMUL_TC_F16;
            case BF16 -> CudaKernel.MATMUL_TC_BF16;
        };
    }

    /** Grid (x, y) of a matmul kernel for {@code rows x outputs}. */
    static int[] matmulGrid(CudaKernel kernel, int rows, int outputs) {
        return switch (kernel) {
            case GEMV_F32, GEMV_F16, GEMV_BF16 -> new int[] {ceilDiv(outputs, GEMV_COLUMNS_PER_BLOCK), 1};
            case MATMUL_TC_F16, MATMUL_TC_BF16 -> new int[] {ceilDiv(outputs, TC_TILE), ceilDiv(rows, TC_TILE)};
            case MATMUL_F32 -> new int[] {ceilDiv(outputs, F32_TILE), ceilDiv(rows, F32_TILE)};
            default -> throw new IllegalArgumentException(kernel + " is not a matmul kernel");
        };
    }

    /** Dynamic shared memory of attention_prefill: the block's queries and one key and one value tile (padded). */
    static int prefillSharedBytes(int headDim) {
        return 4 * (PREFILL_ROWS_PER_BLOCK * headDim + 2 * PREFILL_KEYS_PER_TILE * (headDim + 1));
    }

    /** Key chunks a decode row at the last position {@code lastPos} is split into. */
    static int decodeSplits(int lastPos) { return ceilDiv(lastPos + 1L, DECODE_CHUNK); }
}
