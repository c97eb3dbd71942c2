package io.sn11.engine.backend.cuda;

import io.sn11.engine.safetensors.DType;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** Launch geometry and kernel choice: pure Java, no device needed. */
class CudaLaunchTest {
    @Test
    void decodeRowsTakeTheGemvOfTheirDtypeAndPrefillRowsTheTiledKernels() {
        assertEquals(CudaKernel.GEMV_BF16, CudaLaunch.matmulKernel(1, DType.BF16));
        assertEquals(CudaKernel.GEMV_F16, CudaLaunch.matmulKernel(8, DType.F16));
        assertEquals(CudaKernel.GEMV_F32, CudaLaunch.matmulKernel(8, DType.F32));
        assertEquals(CudaKernel.MATMUL_TC_BF16, CudaLaunch.matmulKernel(9, DType.BF16));
        assertEquals(CudaKernel.MATMUL_TC_F16, CudaLaunch.matmulKernel(1024, DType.F16));
        assertEquals(CudaKernel.MATMUL_F32, CudaLaunch.matmulKernel(9, DType.F32));
    }

    @Test
    void gridsCoverEveryOutput() {
        // Llama-3-8B gate projection over a 1024-token prefill: 14336 outputs, 1024 rows
        assertArrayEquals(new int[] {112, 8}, CudaLaunch.matmulGrid(CudaKernel.MATMUL_TC_BF16, 1024, 14336));
        assertArrayEquals(new int[] {3, 2}, CudaLaunch.matmulGrid(CudaKernel.MATMUL_F32, 65, 129));
        // decode of the lm head: one warp per vocabulary entry, 8 per block
        assertArrayEquals(new int[] {16032, 1}, CudaLaunch.matmulGrid(CudaKernel.GEMV_BF16, 1, 128256));
        assertThrows(IllegalArgumentException.class, () -> CudaLaunch.matmulGrid(CudaKernel.ROPE, 1, 1));
    }

    @Test
    void gridStrideLaunchesAreCapped() {
        assertEquals(1, CudaLaunch.strideBlocks(1));
        assertEquals(1, CudaLaunch.strideBlocks(256));
        assertEquals(2, CudaLaunch.strideBlocks(257));
        assertEquals(CudaLaunch.MAX_STRIDE_BLOCKS, CudaLaunch.strideBlocks(1L << 40));
    }

    @Test
    void prefillSharedMemoryFitsEveryAmpereOrLaterDevice() {
        // 32 query rows + a 32-key tile of keys and of values with a padded pitch
        assertEquals(4 * (32 * 128 + 2 * 32 * 129), CudaLaunch.prefillSharedBytes(128));
        // the attribute set at load: below the smallest opt-in limit of compute capability 8.x (99 KiB on 8.6/8.9)
        assertTrue(CudaLaunch.prefillSharedBytes(CudaLaunch.MAX_HEAD_DIM) <= 99 * 1024);
    }

    @Test
    void decodeSplitsKeysInto256PositionChunks() {
        assertEquals(1, CudaLaunch.decodeSplits(0));
        assertEquals(1, CudaLaunch.decodeSplits(255));
        assertEquals(2, CudaLaunch.decodeSplits(256));
        assertEquals(4, CudaLaunch.decodeSplits(1023));
    }

    @Test
    void dtypeVariantsResolveByName() {
        assertEquals(CudaKernel.EMBEDDING_F16, CudaKernel.byDtype(CudaKernel.EMBEDDING_F32, DType.F16));
        assertEquals(CudaKernel.GEMV_BF16, CudaKernel.byDtype(CudaKernel.GEMV_F32, DType.BF16));
    }
}
