package io.sn11.engine.backend;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The CPU backend: {@link ScalarBackend}'s storage (float activations, weights in their memory-mapped bytes) with
 * its kernels replaced by SIMD ones written with the Vector API ({@code jdk.incubator.vector}). A kernel not
 * replaced here is the scalar reference's. Needs the JVM option {@code --add-modules=jdk.incubator.vector}
 * ({@link io.sn11.engine.EngineJvm}); {@link Backends} falls back to the scalar backend without it.
 *
 * <p>This class only dispatches: the kernels live in {@link VectorOps} and {@link VectorAttention}, and the work is
 * split over the threads here.
 */
public final class VectorBackend extends ScalarBackend {
    /** Elements of an element-wise kernel per task: enough to amortise the hand-off, few enough to balance. */
    private static final int ELEMENTS_PER_TASK = 1 << 14;

    /** 1-D weights (norms) decoded to floats once; entries go with their handles. */
    private final Map<WeightHandle, float[]> decoded = Collections.synchronizedMap(new WeakHashMap<>());
    /** Per worker thread, reused across calls: attention scores, rope's cosines and sines. */
    private final ThreadLocal<float[]> scores = ThreadLocal.withInitial(() -> new float[0]);
    private final ThreadLocal<float[]> cosSin = ThreadLocal.withInitial(() -> new float[0]);
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
        m.put("simd", "vector api, " + VectorOps.F.vectorBitSize() + "-bit");
        return m;
    }

    @Override
    public void rmsnorm(Buffer x, WeightHandle weight, int rows, float eps, Buffer out) {
        float[] w = decoded.computeIfAbsent(weight, h -> w(h).all());
        int n = w.length;
        float[] xi = a(x), o = a(out);
        parallelFor(rows, 3L * n, r -> VectorOps.rmsnormRow(xi, r * n, n, w, eps, o));
    }

    @Override
    public void rope(Buffer x, int rows, int heads, int headDim, int[] positions, Buffer invFreq) {
        float[] xi = a(x), inv = a(invFreq);
        parallelFor(rows, (long) heads * headDim * 2,
                r -> VectorOps.ropeRow(xi, r, heads, headDim, positions[r], inv, scratch(cosSin, headDim)));
    }

    @Override
    public void attention(int layer, Buffer q, Buffer k, Buffer v, List<SeqSlice> batch, int heads, int kvHeads,
                          int headDim, Buffer out) {
        storeKeysValues(layer, a(k), a(v), batch, kvHeads * headDim);
        VectorAttention call = new VectorAttention(layer, a(q), batch, heads, kvHeads, headDim, a(out));
        parallelFor(call.tasks(), call.workPerTask(), task -> call.run(task, scratch(scores, call.scratchFloats(task))));
    }

    @Override
    public void siluMul(Buffer gate, Buffer up, int n) {
        float[] g = a(gate), u = a(up);
        int tasks = (n + ELEMENTS_PER_TASK - 1) / ELEMENTS_PER_TASK;
        parallelFor(tasks, 16L * ELEMENTS_PER_TASK,
                t -> VectorOps.siluMul(g, u, t * ELEMENTS_PER_TASK, Math.min(n, (t + 1) * ELEMENTS_PER_TASK)));
    }

    @Override
    public void add(Buffer x, Buffer y, int n) {
        // memory-bound and short (one hidden row per token): one thread, as the reference
        VectorOps.add(a(x), a(y), n);
    }

    @Override
    int[] topKIds(float[] l, int base, int n, int k) { return VectorOps.topK(l, base, n, k); }

    /** This thread's array of {@code tls}, replaced by a larger one when it holds fewer than {@code floats}. */
    private static float[] scratch(ThreadLocal<float[]> tls, int floats) {
        float[] s = tls.get();
        if (s.length < floats) tls.set(s = new float[floats]);
        return s;
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
