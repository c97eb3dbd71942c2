package io.sn11.engine.backend;

import io.sn11.engine.backend.Backend.Buffer;
import io.sn11.engine.backend.Backend.KvCache;
import io.sn11.engine.backend.Backend.SeqSlice;
import io.sn11.engine.backend.Backend.TopKStats;
import io.sn11.engine.model.RopeScaling;
import io.sn11.engine.safetensors.DType;
import io.sn11.engine.safetensors.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Each SIMD kernel of {@link VectorBackend} against the scalar reference on the same inputs (fixed seeds), on sizes that
 * are not multiples of the vector length (16 floats with AVX-512, 8 with AVX2) nor of the attention's row blocks.
 * Tolerances: rope, add, embedding and the top-k selection are exact (same F32 operations, or no arithmetic);
 * rmsnorm |Δ| <= 1e-6 + 1e-5 |ref| (F32 lanes instead of a double sum of squares); siluMul |Δ| <= 1e-7 + 4e-6 |ref|
 * (the vector exp is within a few ulps); attention |Δ| <= 1e-5 + 1e-4 |ref| (dot products summed in another order).
 */
class VectorKernelsTest {
    static final int[] SIZES = {1, 3, 17, 63, 100, 257, 2048};
    static final int[] ROWS = {1, 3, 17};

    final Random rnd = new Random(4242);
    final ScalarBackend scalar = new ScalarBackend(3);
    final VectorBackend vector = new VectorBackend(3);

    @AfterEach
    void close() {
        scalar.close();
        vector.close();
    }

    float[] rand(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian();
        return a;
    }

    /** The same computation on both backends: {@code run} returns the buffer to compare, downloaded. */
    static float[][] both(Function<Backend, float[]> run, Backend... backends) {
        return Arrays.stream(backends).map(run).toArray(float[][]::new);
    }

    static void assertClose(float[] want, float[] got, double abs, double rel, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            double tol = abs + rel * Math.abs(want[i]);
            if (!(Math.abs(want[i] - got[i]) <= tol)) fail(what + "[" + i + "]: scalar " + want[i] + " vector " + got[i]);
        }
    }

    @Test
    void rmsnormEveryWeightDtype() {
        for (DType dt : DType.values()) {
            for (int n : SIZES) {
                for (int rows : ROWS) {
                    float[] x = rand(rows * n);
                    Tensor weight = BackendKernelContract.tensor("g", dt, rand(n), n);
                    float[][] r = both(be -> {
                        Buffer out = be.allocate(rows * n);
                        be.rmsnorm(be.upload(x), be.upload(weight), rows, 1e-5f, out);
                        return be.download(out);
                    }, scalar, vector);
                    assertClose(r[0], r[1], 1e-6, 1e-5, "rmsnorm " + dt + " n=" + n + " rows=" + rows);
                }
            }
        }
    }

    @Test
    void rmsnormInPlaceAndEachHandleItsOwnWeight() {
        int rows = 3, n = 100;
        float[] x = rand(rows * n);
        Tensor first = BackendKernelContract.tensor("a", DType.BF16, rand(n), n);
        Tensor second = BackendKernelContract.tensor("b", DType.BF16, rand(n), n);
        // the vector backend decodes a norm weight once per handle: a second handle of the same shape is not the first
        float[][] r = both(be -> {
            Buffer xb = be.upload(x), out = be.allocate(rows * n);
            be.rmsnorm(xb, be.upload(first), rows, 1e-5f, out);
            be.rmsnorm(xb, be.upload(second), rows, 1e-5f, xb);
            float[] both = Arrays.copyOf(be.download(out), 2 * rows * n);
            System.arraycopy(be.download(xb), 0, both, rows * n, rows * n);
            return both;
        }, scalar, vector);
        assertClose(r[0], r[1], 1e-6, 1e-5, "rmsnorm with two handles, the second in place");
    }

    @Test
    void embeddingEveryDtypeExact() {
        for (DType dt : DType.values()) {
            for (int vocab : new int[] {1, 9, 257}) {
                for (int cols : new int[] {1, 3, 17, 100}) {
                    Tensor table = BackendKernelContract.tensor("emb", dt, rand(vocab * cols), vocab, cols);
                    int[] tokens = rnd.ints(17, 0, vocab).toArray();
                    float[][] r = both(be -> {
                        Buffer out = be.allocate(tokens.length * cols);
                        be.embedding(be.upload(table), tokens, out);
                        return be.download(out);
                    }, scalar, vector);
                    assertArrayEquals(r[0], r[1], 0f, "embedding " + dt + " " + vocab + "x" + cols);
                }
            }
        }
    }

    @Test
    void ropeExactForEveryHeadDim() {
        RopeScaling llama3 = new RopeScaling(8, 1, 4, 64);
        for (int headDim : new int[] {8, 24, 64, 72, 128}) {
            for (int heads : new int[] {1, 3}) {
                for (int rows : ROWS) {
                    float[] x = rand(rows * heads * headDim);
                    int[] positions = rnd.ints(rows, 0, 101).toArray();
                    float[] inv = RopeTable.inverseFrequencies(headDim, 500000, rows == 3 ? llama3 : null);
                    float[][] r = both(be -> {
                        Buffer xb = be.upload(x);
                        be.rope(xb, rows, heads, headDim, positions, be.upload(inv));
                        return be.download(xb);
                    }, scalar, vector);
                    assertArrayEquals(r[0], r[1], 0f, "rope headDim=" + headDim + " heads=" + heads + " rows=" + rows);
                }
            }
        }
    }

    @Test
    void siluMulAndAdd() {
        for (int n : new int[] {1, 3, 17, 100, 257, 40_000}) {
            float[] gate = rand(n), up = rand(n), y = rand(n);
            for (int i = 0; i < n; i += 7) gate[i] *= 30;  // both tails of the sigmoid, where exp under/overflows
            float[][] silu = both(be -> {
                Buffer g = be.upload(gate);
                be.siluMul(g, be.upload(up), n);
                return be.download(g);
            }, scalar, vector);
            assertClose(silu[0], silu[1], 1e-7, 4e-6, "siluMul n=" + n);
            float[][] sum = both(be -> {
                Buffer x = be.upload(gate);
                be.add(x, be.upload(y), n);
                return be.download(x);
            }, scalar, vector);
            assertArrayEquals(sum[0], sum[1], 0f, "add n=" + n);
        }
    }

    /**
     * Three sequences in each call: A prefilled from position 0 over 17 rows (three row blocks), B with 3 cached
     * positions and 3 new rows, C decoding one row at position 90 after a 90-row history.
     */
    @ParameterizedTest(name = "headDim {0} group {1}")
    @CsvSource({"8,1", "8,4", "24,2", "64,1", "64,2", "64,4", "72,2", "72,4"})
    void attentionSeveralSequencesAgainstReference(int headDim, int group) {
        int kvHeads = 2, heads = kvHeads * group, qd = heads * headDim, kvd = kvHeads * headDim;
        int historyRows = 3 + 90, rows = 17 + 3 + 1;
        float[] q0 = rand(historyRows * qd), k0 = rand(historyRows * kvd), v0 = rand(historyRows * kvd);
        float[] q = rand(rows * qd), k = rand(rows * kvd), v = rand(rows * kvd);
        float[][] r = both(be -> {
            KvCache a = be.allocateKvCache(2, kvHeads, headDim, 32), b = be.allocateKvCache(2, kvHeads, headDim, 8);
            KvCache c = be.allocateKvCache(2, kvHeads, headDim, 100);
            Buffer history = be.allocate(historyRows * qd), out = be.allocate(rows * qd);
            be.attention(1, be.upload(q0), be.upload(k0), be.upload(v0),
                    List.of(new SeqSlice(b, 0, 3, 0), new SeqSlice(c, 3, 90, 0)), heads, kvHeads, headDim, history);
            be.attention(1, be.upload(q), be.upload(k), be.upload(v), List.of(new SeqSlice(a, 0, 17, 0),
                    new SeqSlice(b, 17, 3, 3), new SeqSlice(c, 20, 1, 90)), heads, kvHeads, headDim, out);
            float[] all = Arrays.copyOf(be.download(history), (historyRows + rows) * qd);
            System.arraycopy(be.download(out), 0, all, historyRows * qd, rows * qd);
            return all;
        }, scalar, vector);
        assertClose(r[0], r[1], 1e-5, 1e-4, "attention headDim=" + headDim + " group=" + group);
    }

    @Test
    void topKStatsIdenticalToReferenceWithTies() {
        for (int vocab : new int[] {1, 9, 257, 1000, 128_256}) {
            for (int k : new int[] {1, 10}) {
                if (k > vocab) continue;
                int rows = 3;
                float[] logits = new float[rows * vocab];
                for (int i = 0; i < vocab; i++) {
                    logits[i] = rnd.nextInt(6);                       // row 0: six values, ties everywhere
                    logits[vocab + i] = (float) rnd.nextGaussian();  // row 1: distinct values
                    logits[2 * vocab + i] = i % 5 == 0 ? Float.NEGATIVE_INFINITY : rnd.nextInt(3) - 1;
                }
                int[] targets = rnd.ints(rows, 0, vocab).toArray();
                String what = "vocab " + vocab + " k " + k;
                for (int r = 0; r < rows; r++) {
                    assertArrayEquals(ScalarBackend.topK(logits, r * vocab, vocab, k),
                            VectorOps.topK(logits, r * vocab, vocab, k), what + " row " + r + " ids");
                }
                TopKStats want = scalar.topKStats(scalar.upload(logits), rows, vocab, targets, k);
                TopKStats got = vector.topKStats(vector.upload(logits), rows, vocab, targets, k);
                assertArrayEquals(want.targetInTopK(), got.targetInTopK(), what);
                assertArrayEquals(want.targetProb(), got.targetProb(), 0f, what);
                assertArrayEquals(want.entropy(), got.entropy(), 0f, what);
            }
        }
    }

    @Test
    void topKKeepsTheLowerIdAmongTiesAcrossVectorLanes() {
        // ten equal maxima spread over several vectors, then more of them: the first ten ids win
        float[] l = new float[300];
        for (int i = 5; i < 300; i += 13) l[i] = 2f;
        int[] ids = VectorOps.topK(l, 0, l.length, 10);
        for (int j = 0; j < 10; j++) assertEquals(5 + 13 * j, ids[j]);
    }
}
