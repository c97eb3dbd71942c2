package io.sn11.engine.backend;

import java.util.List;
import java.util.Map;

/**
 * The CPU backend: {@link ScalarBackend}'s storage (float activations, weights in their memory-mapped bytes) with
 * its kernels replaced by SIMD ones written with the Vector API ({@code jdk.incubator.vector}). A kernel not
 * replaced here is the scalar reference's. Needs the JVM option {@code --add-modules=jdk.incubator.vector}
 * ({@link io.sn11.engine.EngineJvm}); {@link Backends} falls back to the scalar backend without it.
 */
public final class VectorBackend extends ScalarBackend {
    private final VectorMatmul vectorMatmul = new VectorMatmul(this);

    public VectorBackend(int threads) {
        super(threads);
    }

    /** Whether this JVM resolved the Vector API module (it is not resolved unless asked for). */
    public static boolean available() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    @Override public String name() { return "cpu"; }

    @Override
    public Map<String, Object> settings() {
        Map<String, Object> m = super.settings();
        m.put("simd", "vector api");
        return m;
    }

    @Override
    public void matmul(Buffer x, int rows, WeightHandle w, WeightHandle bias, Buffer out) {
        vectorMatmul.multiply(a(x), rows, target(w, bias, out));
    }

    @Override
    public void matmul(Buffer x, int rows, List<Projection> projections) {
        VectorMatmul.Target[] targets = new VectorMatmul.Target[projections.size()];
        for (int i = 0; i < targets.length; i++) {
            Projection p = projections.get(i);
            targets[i] = target(p.weight(), p.bias(), p.out());
        }
        vectorMatmul.multiply(a(x), rows, targets);
    }

    private static VectorMatmul.Target target(WeightHandle w, WeightHandle bias, Buffer out) {
        return new VectorMatmul.Target(w(w), bias == null ? null : w(bias), a(out));
    }
}
