package io.sn11.engine.backend;

import io.sn11.engine.backend.Backend.Buffer;
import io.sn11.engine.backend.Backend.KvCache;
import io.sn11.engine.backend.Backend.SeqSlice;
import io.sn11.engine.backend.Backend.TopKStats;
import io.sn11.engine.backend.Backend.WeightHandle;
import io.sn11.engine.backend.cuda.CudaBackend;
import io.sn11.engine.backend.cuda.CudaProbe;
import io.sn11.engine.safetensors.DType;
import io.sn11.engine.safetensors.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The kernel contract on a CUDA device (its tolerances: f32 |d| <= 1e-5 + 1e-4 |expected|), plus the paths the
 * contract's small shapes do not reach, each against {@link ScalarBackend} or an exact double computation:
 * <ul>
 * <li>tensor-core matmul (more than 8 rows, f16/bf16 weights): activations are rounded to the weight dtype, so the
 *     expected value is the double product of the rounded activations and weights; only the f32 accumulation order
 *     differs: |d| <= 1e-4 + 1e-4 |expected|;</li>
 * <li>tiled f32 matmul (more than 8 rows, f32 weights): 1e-5 + 1e-4 |expected| as the contract;</li>
 * <li>flash prefill attention (slices of more than 4 rows, partial tiles) and split-key decode attention over more
 *     than one 256-position chunk: 1e-5 + 1e-4 |expected|;</li>
 * <li>the top-k reduction over a Llama-3 sized vocabulary: flags equal, probability 1e-6, entropy 1e-5;</li>
 * <li>embedding of every dtype: exact.</li>
 * </ul>
 * Skipped, with the probe's reason, where this JVM cannot run CUDA (no driver, no device, or no PTX in the build).
 */
class CudaBackendKernelTest extends BackendKernelContract {
    static final double TC_ABS = 1e-4, TC_REL = 1e-4;

    /** Runs as each test instance is made, so every test reports the skip with its reason. */
    @Override
    Backend newBackend() {
        CudaProbe probe = CudaProbe.system();
        assumeTrue(probe.available(), probe.reason());
        return CudaBackend.open(probe);
    }

    static void assertWithin(double[] expected, float[] got, double abs, double rel, String what) {
        for (int i = 0; i < expected.length; i++) {
            double tol = abs + rel * Math.abs(expected[i]);
            assertTrue(Math.abs(expected[i] - got[i]) <= tol, what + "[" + i + "] expected " + expected[i] + " got " + got[i]);
        }
    }

    static float roundTo(DType dt, float v) {
        return switch (dt) {
            case F32 -> v;
            case F16 -> DType.halfToFloat(DType.floatToHalf(v));
            case BF16 -> DType.bf16ToFloat(DType.floatToBf16(v));
        };
    }

    @Test
    void manyRowMatmulOnTensorCoresAndTiledF32() {
        int rows = 200, out = 150;
        for (int in : new int[] {96, 37}) {  // 96: 16-byte vector loads; 37: the scalar path with ragged tiles
            for (DType dt : DType.values()) {
                float[] x = rand(rows * in), wv = rand(out * in), bv = rand(out);
                Tensor wt = tensor("w", dt, wv, out, in), bt = tensor("b", dt, bv, out);
                float[] w = wt.toFloatArray(), bias = bt.toFloatArray();
                double[] exp = new double[rows * out];
                for (int r = 0; r < rows; r++) {
                    for (int o = 0; o < out; o++) {
                        double s = bias[o];
                        for (int i = 0; i < in; i++) s += (double) roundTo(dt, x[r * in + i]) * w[o * in + i];
                        exp[r * out + o] = s;
                    }
                }
                try (Buffer xb = be.upload(x); Buffer ob = be.allocate(rows * out);
                     WeightHandle wh = be.upload(wt); WeightHandle bh = be.upload(bt)) {
                    be.matmul(xb, rows, wh, bh, ob);
                    double abs = dt == DType.F32 ? ABS : TC_ABS, rel = dt == DType.F32 ? REL : TC_REL;
                    assertWithin(exp, be.download(ob), abs, rel, "matmul " + dt + " in=" + in);
                }
            }
        }
    }

    @Test
    void prefillAndDecodeAttentionMatchTheScalarBackend() {
        int prefill = 520, decode = 3;  // 520 rows: 17 query blocks, the last partial; decode rows span 3 key chunks
        float[] q = rand((prefill + decode) * 8 * 64), k = rand((prefill + decode) * 2 * 64), v = rand((prefill + decode) * 2 * 64);
        float[] got = prefillThenDecode(be, q, k, v, prefill, decode);
        try (ScalarBackend cpu = new ScalarBackend(2)) {
            float[] want = prefillThenDecode(cpu, q, k, v, prefill, decode);
            double[] expected = new double[want.length];
            for (int i = 0; i < want.length; i++) expected[i] = want[i];
            assertWithin(expected, got, ABS, REL, "attention");
        }
    }

    /** 8 heads over 2 kv heads of dim 64, layer 1 of 2: one prefill slice, then a decode slice; both outputs. */
    static float[] prefillThenDecode(Backend b, float[] q, float[] k, float[] v, int prefill, int decode) {
        int qd = 8 * 64, kvd = 2 * 64;
        KvCache cache = b.allocateKvCache(2, 2, 64, prefill + decode);
        Buffer out = b.allocate((prefill + decode) * qd);
        b.attention(1, b.upload(Arrays.copyOf(q, prefill * qd)), b.upload(Arrays.copyOf(k, prefill * kvd)),
                b.upload(Arrays.copyOf(v, prefill * kvd)), List.of(new SeqSlice(cache, 0, prefill, 0)), 8, 2, 64, out);
        float[] first = b.download(out);
        b.attention(1, b.upload(Arrays.copyOfRange(q, prefill * qd, q.length)),
                b.upload(Arrays.copyOfRange(k, prefill * kvd, k.length)), b.upload(Arrays.copyOfRange(v, prefill * kvd, v.length)),
                List.of(new SeqSlice(cache, 0, decode, prefill)), 8, 2, 64, out);
        float[] second = b.download(out);
        float[] both = Arrays.copyOf(first, (prefill + decode) * qd);
        System.arraycopy(second, 0, both, prefill * qd, decode * qd);
        return both;
    }

    @Test
    void topKStatsOverALlama3Vocabulary() {
        int rows = 3, vocab = 128256;
        float[] l = rand(rows * vocab);
        int[] targets = {5, 77777, 128255};
        l[5] = 9f;  // row 0's target surely in the top 10
        try (ScalarBackend cpu = new ScalarBackend(2)) {
            TopKStats want = cpu.topKStats(cpu.upload(l), rows, vocab, targets, 10);
            TopKStats got = be.topKStats(be.upload(l), rows, vocab, targets, 10);
            for (int r = 0; r < rows; r++) {
                assertEquals(want.targetInTopK()[r], got.targetInTopK()[r], "row " + r);
                assertEquals(want.targetProb()[r], got.targetProb()[r], 1e-6, "row " + r);
                assertEquals(want.entropy()[r], got.entropy()[r], 1e-5, "row " + r);
            }
            assertTrue(got.targetInTopK()[0]);
        }
    }

    @Test
    void embeddingOfEachDtypeIsExact() {
        float[] table = rand(50 * 24);
        int[] tokens = {49, 0, 7, 7, 23};
        for (DType dt : DType.values()) {
            Tensor t = tensor("emb", dt, table, 50, 24);
            float[] decoded = t.toFloatArray();
            try (WeightHandle h = be.upload(t); Buffer out = be.allocate(tokens.length * 24)) {
                be.embedding(h, tokens, out);
                float[] got = be.download(out);
                for (int r = 0; r < tokens.length; r++) {
                    assertArrayEquals(Arrays.copyOfRange(decoded, tokens[r] * 24, tokens[r] * 24 + 24),
                            Arrays.copyOfRange(got, r * 24, r * 24 + 24), 0f, dt + " row " + r);
                }
            }
        }
    }

    @Test
    void topKAboveTheKernelLimitIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> be.topKStats(be.upload(rand(40)), 1, 40, new int[] {0}, 17));
    }
}
