package io.sn11.engine.backend;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.sn11.engine.backend.cuda.CudaProbe;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** Backend selection by name when CUDA cannot run (the probe is given, so this holds on any machine). */
class BackendsTest {
    static final CudaProbe NO_DEVICE = CudaProbe.unavailable("no CUDA device: test probe");

    @Test
    void autoFallsBackToCpuAndLogsWhy() {
        Logger logger = (Logger) LoggerFactory.getLogger(Backends.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        try (Backend be = Backends.create("auto", 1, () -> NO_DEVICE, false)) {
            assertEquals("cpu", be.name());
            assertEquals(1, be.settings().get("threads"));
        } finally {
            logger.detachAppender(appender);
        }
        assertEquals(1, appender.list.size());
        assertTrue(appender.list.get(0).getFormattedMessage().contains("no CUDA device: test probe"),
                appender.list.get(0).getFormattedMessage());
    }

    @Test
    void cudaAskedForWithoutADeviceFailsWithTheReason() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Backends.create("cuda", 1, () -> NO_DEVICE, false));
        assertEquals("backend 'cuda' is not available: no CUDA device: test probe", e.getMessage());
    }

    @Test
    void autoFailsWithTheReasonWhereCudaIsRequired() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Backends.create("auto", 1, () -> NO_DEVICE, true));
        assertEquals("SN11_REQUIRE_CUDA is set and backend 'cuda' is not available: no CUDA device: test probe", e.getMessage());
    }

    @Test
    void strictModeIsSetByAnyValueButEmptyOrZero() {
        assertTrue(Backends.cudaRequired(Map.of("SN11_REQUIRE_CUDA", "1")));
        assertTrue(Backends.cudaRequired(Map.of("SN11_REQUIRE_CUDA", "true")));
        assertFalse(Backends.cudaRequired(Map.of("SN11_REQUIRE_CUDA", "0")));
        assertFalse(Backends.cudaRequired(Map.of("SN11_REQUIRE_CUDA", " ")));
        assertFalse(Backends.cudaRequired(Map.of()));
    }

    @Test
    void cpuNeverProbes() {
        try (Backend be = Backends.create("cpu", 2, () -> { throw new AssertionError("probed"); }, true)) {
            assertEquals("cpu", be.name());
        }
    }

    @Test
    void cpuIsTheSimdBackendAndScalarTheReference() {
        try (Backend cpu = Backends.create("cpu", 2); Backend scalar = Backends.create("scalar", 2)) {
            assertInstanceOf(VectorBackend.class, cpu, "the tests run with the Vector API module resolved");
            assertEquals("scalar", scalar.name());
            assertEquals(ScalarBackend.class, scalar.getClass());
            assertEquals(2, scalar.settings().get("threads"));
        }
    }

    @Test
    void unknownNameListsTheChoices() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backends.create("tpu", 1));
        assertTrue(e.getMessage().contains("[auto, cpu, scalar, cuda]"), e.getMessage());
    }

    @Test
    void thisMachinesProbeExplainsAMissingDevice() {
        CudaProbe probe = CudaProbe.system();
        assumeFalse(probe.available(), "a CUDA device is present");
        assertFalse(probe.reason().isBlank());
        assertSame(probe, CudaProbe.system(), "probed once");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Backends.create("cuda", 1));
        assertTrue(e.getMessage().endsWith(probe.reason()), e.getMessage());
        try (Backend be = Backends.create("auto", 1)) {
            assertEquals("cpu", be.name());
        }
    }
}
