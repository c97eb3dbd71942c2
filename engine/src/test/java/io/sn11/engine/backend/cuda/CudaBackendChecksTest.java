package io.sn11.engine.backend.cuda;

import io.sn11.engine.backend.Backend.Buffer;
import io.sn11.engine.backend.Backend.SeqSlice;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The cuda backend's argument checks, which run before any device call (no GPU needed). */
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
}
