package io.sn11.engine.backend.cuda;

import io.sn11.engine.backend.Backends;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;

/**
 * How every CUDA test starts: with the device's probe where CUDA can run; elsewhere skipped with the probe's reason,
 * or failed where {@value Backends#REQUIRE_CUDA} is set (the GPU proof), so a run on the device cannot pass by
 * skipping.
 */
public final class CudaTestDevice {
    private CudaTestDevice() {}

    /** This JVM's probe, when CUDA can run. */
    public static CudaProbe probeOrSkip() { return probeOrSkip(CudaProbe.system(), System.getenv()); }

    static CudaProbe probeOrSkip(CudaProbe probe, Map<String, String> environment) {
        if (probe.available()) return probe;
        if (Backends.cudaRequired(environment)) {
            fail(Backends.REQUIRE_CUDA + " is set and CUDA cannot be used: " + probe.reason());
        }
        return abort(probe.reason());
    }
}
