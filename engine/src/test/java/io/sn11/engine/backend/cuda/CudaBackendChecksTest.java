package io.sn11.engine.backend.cuda;

import io.sn11.engine.backend.Backend.Buffer;
import io.sn11.engine.backend.Backend.SeqSlice;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** What the cuda backend decides before any device call: argument checks, the matmul setting (no GPU needed). */
class CudaBackendChecksTest {
    /** Only a size: the checks look at nothing else. */
    record Sized(int size) implements Buffer {
        @Override public void close() {}
    }

    @Test
    void attentionRefusesAnyBufferShorterThanTheSliceItsKernelsWouldReadOrWrite() {
        int qDim = 8, kvDim = 4;
        SeqSlice slice = new SeqSlice(null, 2, 3, 0);  // rows 2..4: 5 rows of each buffer are touched
        Buffer q = new Sized(5 * qDim), k = new Sized(5 * kvDim), v = new Sized(5 * kvDim), out = new Sized(5 * qDim);
        CudaBackend.requireAttentionSizes(q, k, v, out, slice, qDim, kvDim);
        Buffer shortQ = new Sized(5 * qDim - 1), shortKv = new Sized(5 * kvDim - 1);
        assertRefused("attention q", () -> CudaBackend.requireAttentionSizes(shortQ, k, v, out, slice, qDim, kvDim));
        assertRefused("attention k", () -> CudaBackend.requireAttentionSizes(q, shortKv, v, out, slice, qDim, kvDim));
        assertRefused("attention v", () -> CudaBackend.requireAttentionSizes(q, k, shortKv, out, slice, qDim, kvDim));
        assertRefused("attention out", () -> CudaBackend.requireAttentionSizes(q, k, v, shortQ, slice, qDim, kvDim));
    }

    static void assertRefused(String what, org.junit.jupiter.api.function.Executable check) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, check, what);
        assertTrue(e.getMessage().startsWith(what + ":"), e.getMessage());
    }

    @Test
    void withoutCublasLtTheMatmulSettingSaysTheWmmaKernelsRunAndWhy() {
        String setting = CudaBackend.matmulSetting(null, "cuBLASLt not found: /usr/local/cuda/lib64/libcublasLt.so.13 "
                + "(CUDA toolkit): no such file");
        assertTrue(setting.startsWith("WMMA tensor cores"), setting);
        assertTrue(setting.endsWith("; cuBLASLt not used: cuBLASLt not found: /usr/local/cuda/lib64/libcublasLt.so.13 "
                + "(CUDA toolkit): no such file"), setting);
    }

    @Test
    void withCublasLtTheMatmulSettingNamesItsReleaseAndWhereItCameFrom() {
        String setting = CudaBackend.matmulSetting("13.1.0 (/p/nvidia/cu13/lib/libcublasLt.so.13 (pip nvidia-cublas))", null);
        assertTrue(setting.startsWith("cuBLASLt 13.1.0 (/p/nvidia/cu13/lib/libcublasLt.so.13 (pip nvidia-cublas)) for bf16 "
                + "weights above 8 rows"), setting);
        assertFalse(setting.contains("not used"), setting);
    }

    @Test
    void aJCudaPointersAddressIsItsAllocationPlusItsOffset() {
        assertEquals(0, DeviceAddress.of(new jcuda.driver.CUdeviceptr()));
        assertEquals(4096 + 256, DeviceAddress.of(new jcuda.driver.CUdeviceptr().withByteOffset(4096).withByteOffset(256)));
    }
}
