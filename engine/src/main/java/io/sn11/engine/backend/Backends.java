package io.sn11.engine.backend;

import io.sn11.engine.backend.cuda.CudaBackend;
import io.sn11.engine.backend.cuda.CudaProbe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Creates a backend by name: {@code auto} (cuda when this JVM can run it, else cpu), {@code cpu} (the SIMD kernels),
 * {@code scalar} (the plain-Java reference every other backend is tested against) or {@code cuda}. Where the
 * environment sets {@value #REQUIRE_CUDA} (the GPU proof does), {@code auto} fails instead of falling back to cpu, and
 * the CUDA tests fail instead of skipping.
 */
public final class Backends {
    private static final Logger log = LoggerFactory.getLogger(Backends.class);

    private Backends() {}

    public static final List<String> NAMES = List.of("auto", "cpu", "scalar", "cuda");

    /** The environment variable that makes CUDA mandatory: set (to anything but empty or 0), nothing falls back or skips. */
    public static final String REQUIRE_CUDA = "SN11_REQUIRE_CUDA";

    /** Whether {@code environment} (System.getenv() outside tests) sets {@value #REQUIRE_CUDA}. */
    public static boolean cudaRequired(Map<String, String> environment) {
        String value = environment.getOrDefault(REQUIRE_CUDA, "").strip();
        return !value.isEmpty() && !value.equals("0");
    }

    /** @param threads worker threads for the CPU backend; 0 means one per available core */
    public static Backend create(String name, int threads) {
        return create(name, threads, CudaProbe::system, cudaRequired(System.getenv()));
    }

    /**
     * As {@link #create(String, int)} with the CUDA probe (tests pass one that says no) and strict mode given.
     *
     * @param cudaRequired {@code auto} fails where CUDA cannot run, naming the probe's reason
     */
    static Backend create(String name, int threads, Supplier<CudaProbe> cuda, boolean cudaRequired) {
        return switch (name) {
            case "cpu" -> cpu(threads);
            case "scalar" -> new ScalarBackend(threadsOrCores(threads));
            case "cuda" -> CudaBackend.open(cuda.get());
            case "auto" -> {
                CudaProbe probe = cuda.get();
                if (probe.available()) yield CudaBackend.open(probe);
                if (cudaRequired) {
                    throw new IllegalStateException(REQUIRE_CUDA + " is set and backend 'cuda' is not available: " + probe.reason());
                }
                log.info("backend auto: using cpu, cuda is not available: {}", probe.reason());
                yield cpu(threads);
            }
            default -> throw new IllegalArgumentException("unknown backend '" + name + "'; available: " + NAMES);
        };
    }

    /** True when {@code name} gives the cuda backend on this machine (one device: one evaluation at a time). */
    public static boolean usesCuda(String name) {
        return name.equals("cuda") || (name.equals("auto") && CudaProbe.system().available());
    }

    private static Backend cpu(int threads) {
        if (VectorBackend.available()) return new VectorBackend(threadsOrCores(threads));
        log.warn("backend cpu: the Vector API module is not resolved in this JVM (start it with {}); using the scalar "
                + "reference kernels, several times slower", io.sn11.engine.EngineJvm.OPTIONS.get(0));
        return new ScalarBackend(threadsOrCores(threads));
    }

    private static int threadsOrCores(int threads) {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }
}
