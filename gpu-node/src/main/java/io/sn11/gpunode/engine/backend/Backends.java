package io.sn11.gpunode.engine.backend;

import java.util.List;

/** Creates a backend by name. */
public final class Backends {
    private Backends() {}

    public static final List<String> NAMES = List.of("cpu");

    /** @param threads worker threads for the CPU backend; 0 means one per available core */
    public static Backend create(String name, int threads) {
        return switch (name) {
            case "cpu" -> new CpuBackend(threads > 0 ? threads : Runtime.getRuntime().availableProcessors());
            case "cuda" -> throw new IllegalArgumentException("backend 'cuda' is not available in this build; available: " + NAMES);
            default -> throw new IllegalArgumentException("unknown backend '" + name + "'; available: " + NAMES);
        };
    }
}
