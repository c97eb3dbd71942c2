package io.sn11.engine.backend;

import io.sn11.engine.backend.Backend.Buffer;
import io.sn11.engine.backend.Backend.KvCache;
import io.sn11.engine.backend.Backend.SeqSlice;
import io.sn11.engine.backend.Backend.WeightHandle;
import io.sn11.engine.safetensors.DType;

import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Not a test: times each kernel but matmul on the scalar and the vector backend at the Llama-3.2-1B shape (hidden 2048,
 * 32 heads and 8 kv heads of 64, MLP 8192, vocabulary 128256), for a decode step and a 128-row prefill at a given
 * context, and prints the best time of each (machines are shared: the best of several runs is the least disturbed).
 * Run after {@code mvn -pl engine test-compile}, from the repository root:
 * <pre>
 * java --add-modules=jdk.incubator.vector -cp engine/target/classes:engine/target/test-classes \
 *     io.sn11.engine.backend.KernelTimings [threads (2)] [context (512)]
 * </pre>
 */
public final class KernelTimings {
    static final int HIDDEN = 2048, HEADS = 32, KV_HEADS = 8, HEAD_DIM = 64, MLP = 8192, VOCAB = 128_256;

    private final Random rnd = new Random(1);
    private final int threads, context;

    private KernelTimings(int threads, int context) {
        this.threads = threads;
        this.context = context;
    }

    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int context = args.length > 1 ? Integer.parseInt(args[1]) : 512;
        new KernelTimings(threads, context).run();
    }

    private float[] rand(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian();
        return a;
    }

    /**
     * Best microseconds per call of {@code body} over 5 rounds, each long enough (>= 50 ms) to be measured, after a
     * second of warm-up: the Vector API is slow until the JIT has compiled the kernel with its intrinsics.
     */
    private static double bestMicros(Runnable body) {
        for (long t0 = System.nanoTime(); System.nanoTime() - t0 < 1_000_000_000L; ) body.run();
        double best = Double.MAX_VALUE;
        for (int round = 0; round < 5; round++) {
            int calls = 0;
            long t0 = System.nanoTime(), t;
            do {
                body.run();
                calls++;
                t = System.nanoTime();
            } while (t - t0 < 50_000_000L);
            best = Math.min(best, (t - t0) / 1e3 / calls);
        }
        return best;
    }

    /** One kernel call on a backend, with its inputs made for that backend. */
    private interface Kernel {
        Runnable prepare(Backend be);
    }

    private void time(String name, int callsPerToken, Kernel kernel) {
        double[] micros = new double[2];
        Backend[] backends = {new ScalarBackend(threads), new VectorBackend(threads)};
        for (int i = 0; i < 2; i++) {
            try (Backend be = backends[i]) {
                micros[i] = bestMicros(kernel.prepare(be));
            }
        }
        System.out.printf(Locale.ROOT, "  %-34s %10.1f %10.1f %7.1fx %12.2f%n", name, micros[0], micros[1],
                micros[0] / micros[1], callsPerToken * (micros[0] - micros[1]) / 1e3);
    }

    private void run() {
        System.out.printf(Locale.ROOT, "kernels at the 1B shape, %d threads, context %d, %s%n", threads, context,
                new VectorBackend(1).settings());
        System.out.printf(Locale.ROOT, "  %-34s %10s %10s %8s %12s%n", "kernel", "scalar us", "vector us", "speedup",
                "ms saved/pass");
        for (int rows : new int[] {1, 128}) {
            int layers = 16;
            String shape = rows == 1 ? "decode, 1 row" : "prefill, " + rows + " rows";
            System.out.println(" " + shape + " (ms saved per forward pass of " + layers + " layers)");
            float[] norm = rand(HIDDEN);
            float[] x = rand(rows * HIDDEN);
            time("rmsnorm", 2 * layers + 1, be -> {
                Buffer in = be.upload(x), out = be.allocate(rows * HIDDEN);
                WeightHandle w = be.upload(BackendKernelContract.tensor("norm", DType.BF16, norm, HIDDEN));
                return () -> be.rmsnorm(in, w, rows, 1e-5f, out);
            });
            int[] positions = new int[rows];
            for (int r = 0; r < rows; r++) positions[r] = context - rows + r;
            float[] q = rand(rows * HEADS * HEAD_DIM);
            time("rope (q and k)", layers, be -> {
                Buffer qb = be.upload(q), kb = be.upload(q), inv = be.upload(RopeTable.inverseFrequencies(HEAD_DIM, 500000, null));
                return () -> {
                    be.rope(qb, rows, HEADS, HEAD_DIM, positions, inv);
                    be.rope(kb, rows, KV_HEADS, HEAD_DIM, positions, inv);
                };
            });
            float[] k = rand(rows * KV_HEADS * HEAD_DIM), history = rand((context - rows) * KV_HEADS * HEAD_DIM);
            time("attention at context " + context, layers, be -> {
                KvCache cache = be.allocateKvCache(1, KV_HEADS, HEAD_DIM, context);
                Buffer hk = be.upload(history), hq = be.allocate((context - rows) * HEADS * HEAD_DIM);
                be.attention(0, hq, hk, hk, List.of(new SeqSlice(cache, 0, context - rows, 0)), HEADS, KV_HEADS,
                        HEAD_DIM, be.allocate((context - rows) * HEADS * HEAD_DIM));
                Buffer qb = be.upload(q), kb = be.upload(k), out = be.allocate(rows * HEADS * HEAD_DIM);
                List<SeqSlice> slice = List.of(new SeqSlice(cache, 0, rows, context - rows));
                return () -> be.attention(0, qb, kb, kb, slice, HEADS, KV_HEADS, HEAD_DIM, out);
            });
            float[] gate = rand(rows * MLP), up = rand(rows * MLP);
            time("siluMul", layers, be -> {
                Buffer g = be.upload(gate), u = be.upload(up);
                // silu * up over and over stays finite: it shrinks the values it is applied to
                return () -> be.siluMul(g, u, rows * MLP);
            });
            time("add", 2 * layers, be -> {
                Buffer a = be.upload(x), b = be.allocate(rows * HIDDEN);
                return () -> be.add(a, b, rows * HIDDEN);
            });
            int scored = Math.min(rows, 64);
            float[] logits = rand(scored * VOCAB);
            int[] targets = new int[scored];
            time("topKStats, " + scored + " rows of " + VOCAB, (rows + scored - 1) / scored, be -> {
                Buffer l = be.upload(logits);
                return () -> be.topKStats(l, scored, VOCAB, targets, 10);
            });
        }
    }
}
