package io.sn11.engine.backend.cuda;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Strict mode, on any machine: the probe is given, the environment injected. */
class CudaTestDeviceTest {
    static final CudaProbe NO_DEVICE = CudaProbe.unavailable("no CUDA device: test probe");

    @Test
    void withoutADeviceATestIsSkippedWithTheReason() {
        TestAbortedException skipped = assertThrows(TestAbortedException.class,
                () -> CudaTestDevice.probeOrSkip(NO_DEVICE, Map.of()));
        assertTrue(skipped.getMessage().contains("no CUDA device: test probe"), skipped.getMessage());
        assertThrows(TestAbortedException.class, () -> CudaTestDevice.probeOrSkip(NO_DEVICE, Map.of("SN11_REQUIRE_CUDA", "0")));
    }

    @Test
    void whereCudaIsRequiredATestWithoutADeviceFails() {
        AssertionFailedError failed = assertThrows(AssertionFailedError.class,
                () -> CudaTestDevice.probeOrSkip(NO_DEVICE, Map.of("SN11_REQUIRE_CUDA", "1")));
        assertEquals("SN11_REQUIRE_CUDA is set and CUDA cannot be used: no CUDA device: test probe", failed.getMessage());
    }

    @Test
    void withADeviceTheProbeIsReturned() {
        CudaProbe device = new CudaProbe(true, "device 0: test", "test", 1L << 30, 9, 0, 13000);
        assertSame(device, CudaTestDevice.probeOrSkip(device, Map.of("SN11_REQUIRE_CUDA", "1")));
    }
}
