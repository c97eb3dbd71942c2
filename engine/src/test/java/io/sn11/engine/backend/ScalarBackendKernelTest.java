package io.sn11.engine.backend;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** The kernel contract on the CPU reference backend (3 threads, more than the cores of small CI machines). */
class ScalarBackendKernelTest extends BackendKernelContract {
    @Override
    Backend newBackend() { return new ScalarBackend(3); }

    @Test
    void topKSelectionOrder() {
        float[] l = {1, 3, 3, 2, 3};
        assertArrayEquals(new int[] {1, 2, 4}, ScalarBackend.topK(l, 0, 5, 3));
        assertArrayEquals(new int[] {1, 2, 4, 3, 0}, ScalarBackend.topK(l, 0, 5, 5));
    }
}
