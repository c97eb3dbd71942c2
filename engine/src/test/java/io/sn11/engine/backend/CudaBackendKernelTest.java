package io.sn11.engine.backend;

import io.sn11.engine.backend.Backend.Buffer;
import io.sn11.engine.backend.Backend.KvCache;
import io.sn11.engine.backend.Backend.SeqSlice;
import io.sn11.engine.backend.Backend.TopKStats;
import io.sn11.engine.backend.Backend.WeightHandle;
import io.sn11.engine.backend.cuda.CudaBackend;
import io.sn11.engine.backend.cuda.CudaTestDevice;
import io.sn11.engine.safetensors.DType;
import io.sn11.engine.safetensors.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The kernel contract on a CUDA device (its tolerances: f32 |d| <= 1e-5 + 1e-4 |expected|), plus the paths the
 * contract's small shapes do not reach, each against {@link ScalarBackend} or an exact double computation:
 * <ul>
 * <li>tensor-core matmul (more than 8 rows, f16/bf16 weights): activations are rounded to the weight dtype, so the
 *     expected value is the double product of the rounded activations and weights; only the f32 accumulation order
 *     differs: |d| <= 1e-4 + 1e-4 |expected|; also on rows, outputs and inputs off the tiles;</li>
 * <li>tiled f32 matmul (more than 8 rows, f32 weights): 1e-5 + 1e-4 |expected| as the contract;</li>
 * <li>flash prefill attention (slices of more than 4 rows, partial tiles) and split-key decode attention over more
 *     than one 256-position chunk; head dim 128 with prefills at non-zero starts beside other sequences:
 *     1e-5 + 1e-4 |expected|;</li>
 * <li>the top-k reduction over a Llama-3 sized vocabulary: flags equal, probability 1e-6, entropy 1e-5;</li>
 * <li>embedding of every dtype: exact.</li>
 * </ul>
 * Skipped, with the probe's reason, where this JVM cannot run CUDA (no driver, no device, or no PTX in the build);
 * failed instead where SN11_REQUIRE_CUDA is set ({@link CudaTestDevice}).
 */
class CudaBackendKernelTest extends BackendKernelContract {
    static final double TC_ABS = 1e-4, TC_REL = 1e-4;

    /** Runs as each test instance is made, so every test reports the skip (or, in strict mode, the failure) with its reason. */
    @Override
    Backend newBackend() { return CudaBackend.open(CudaTestDevice.probeOrSkip()); }

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
        for (int in : new int[] {96, 37}) {  // 96: 16-byte vector loads; 37: the scalar path with ragged tiles
            for (DType dt : DType.values()) matmulMatchesTheDoubleProduct(200, in, 150, dt);
        }
    }

    /** Rows, outputs and inputs off the 128-wide tiles (one output past two tiles, 9 rows: just past the gemv limit). */
    @Test
    void matmulSizesOffTheTiles() {
        for (int rows : new int[] {1, 9, 131}) {
            for (DType dt : DType.values()) matmulMatchesTheDoubleProduct(rows, 200, 257, dt);
        }
    }

    /**
     * Above {@link io.sn11.engine.backend.cuda.CudaLaunch#GEMV_MAX_ROWS} rows the f16/bf16 kernels round the activations
     * to the weight dtype, so the expected value is the double product of the rounded activations and weights.
     */
    void matmulMatchesTheDoubleProduct(int rows, int in, int out, DType dt) {
        boolean rounded = rows > 8 && dt != DType.F32;
        float[] x = rand(rows * in), wv = rand(out * in), bv = rand(out);
        Tensor wt = tensor("w", dt, wv, out, in), bt = tensor("b", dt, bv, out);
        float[] w = wt.toFloatArray(), bias = bt.toFloatArray();
        double[] exp = new double[rows * out];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double s = bias[o];
                for (int i = 0; i < in; i++) s += (double) (rounded ? roundTo(dt, x[r * in + i]) : x[r * in + i]) * w[o * in + i];
                exp[r * out + o] = s;
            }
        }
        try (Buffer xb = be.upload(x); Buffer ob = be.allocate(rows * out);
             WeightHandle wh = be.upload(wt); WeightHandle bh = be.upload(bt)) {
            be.matmul(xb, rows, wh, bh, ob);
            assertWithin(exp, be.download(ob), rounded ? TC_ABS : ABS, rounded ? TC_REL : REL,
                    "matmul " + dt + " " + rows + "x" + in + " -> " + out);
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

    /**
     * Head dim 128 (the prefill stages more than the default 48 KiB of shared memory) with grouped queries, two sequences
     * per call: a 70-row prefill; then a 45-row prefill at position 70 beside a second sequence's first 33 rows; then
     * decode rows of both (3 rows at 115, 1 at 33). Every length is off the 32-row tiles.
     */
    @Test
    void headDim128AndPrefillsAtNonZeroStarts() {
        int heads = 4, kvHeads = 2, headDim = 128;
        int[][][] calls = {  // per call, per slice: sequence, rows, start position
            {{0, 70, 0}},
            {{0, 45, 70}, {1, 33, 0}},
            {{0, 3, 115}, {1, 1, 33}},
        };
        List<float[][]> inputs = new ArrayList<>();
        for (int[][] call : calls) {
            int rows = Arrays.stream(call).mapToInt(c -> c[1]).sum();
            inputs.add(new float[][] {rand(rows * heads * headDim), rand(rows * kvHeads * headDim), rand(rows * kvHeads * headDim)});
        }
        List<float[]> got = attentionCalls(be, calls, inputs, heads, kvHeads, headDim), want;
        try (ScalarBackend cpu = new ScalarBackend(2)) { want = attentionCalls(cpu, calls, inputs, heads, kvHeads, headDim); }
        for (int c = 0; c < calls.length; c++) {
            double[] expected = new double[want.get(c).length];
            for (int i = 0; i < expected.length; i++) expected[i] = want.get(c)[i];
            assertWithin(expected, got.get(c), ABS, REL, "attention call " + c);
        }
    }

    /** Runs the calls in order over one kv cache per sequence (layer 0 of 1); the output of each call. */
    static List<float[]> attentionCalls(Backend b, int[][][] calls, List<float[][]> inputs, int heads, int kvHeads, int headDim) {
        KvCache[] caches = {b.allocateKvCache(1, kvHeads, headDim, 128), b.allocateKvCache(1, kvHeads, headDim, 128)};
        List<float[]> outputs = new ArrayList<>();
        for (int c = 0; c < calls.length; c++) {
            List<SeqSlice> slices = new ArrayList<>();
            int row = 0;
            for (int[] slice : calls[c]) {
                slices.add(new SeqSlice(caches[slice[0]], row, slice[1], slice[2]));
                row += slice[1];
            }
            float[][] qkv = inputs.get(c);
            try (Buffer out = b.allocate(row * heads * headDim)) {
                b.attention(0, b.upload(qkv[0]), b.upload(qkv[1]), b.upload(qkv[2]), slices, heads, kvHeads, headDim, out);
                outputs.add(b.download(out));
            }
        }
        return outputs;
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
