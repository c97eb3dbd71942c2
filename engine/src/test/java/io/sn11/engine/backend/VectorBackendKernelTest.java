package io.sn11.engine.backend;

/** The kernel contract on the SIMD backend (3 threads, more than the cores of small CI machines). */
class VectorBackendKernelTest extends BackendKernelContract {
    @Override
    Backend newBackend() { return new VectorBackend(3); }
}
