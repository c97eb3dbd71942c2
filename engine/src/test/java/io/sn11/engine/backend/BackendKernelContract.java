package io.sn11.engine.backend;

import io.sn11.engine.backend.Backend.Buffer;
import io.sn11.engine.backend.Backend.KvCache;
import io.sn11.engine.backend.Backend.SeqSlice;
import io.sn11.engine.backend.Backend.TopKStats;
import io.sn11.engine.backend.Backend.WeightHandle;
import io.sn11.engine.model.RopeScaling;
import io.sn11.engine.safetensors.DType;
import io.sn11.engine.safetensors.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The kernel contract of {@link Backend}: each kernel against a direct scalar computation in double on small random
 * inputs (seed 1234). Tolerance: |got - expected| <= 1e-5 + 1e-4 * |expected| unless stated. Every backend's test
 * extends this class (the CUDA backend's parity tests can reuse it as is).
 */
abstract class BackendKernelContract {
    static final double ABS = 1e-5, REL = 1e-4;
    final Random rnd = new Random(1234);
    final Backend be = newBackend();

    abstract Backend newBackend();

    @AfterEach void close() { be.close(); }

    float[] rand(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian();
        return a;
    }

    /** A tensor holding the given values in dtype (values are rounded to it); returns the rounded values too. */
    static Tensor tensor(String name, DType dt, float[] v, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(v.length * dt.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            switch (dt) {
                case F32 -> b.putFloat(f);
                case F16 -> b.putShort(DType.floatToHalf(f));
                case BF16 -> b.putShort(DType.floatToBf16(f));
            }
        }
        b.flip();
        return new Tensor(name, dt, shape, MemorySegment.ofBuffer(b));
    }

    static void close(double[] expected, float[] got, String what) {
        for (int i = 0; i < expected.length; i++) {
            double tol = ABS + REL * Math.abs(expected[i]);
            assertTrue(Math.abs(expected[i] - got[i]) <= tol, what + "[" + i + "] expected " + expected[i] + " got " + got[i]);
        }
    }

    @Test
    void matmulEachDtypeWithAndWithoutBias() {
        int rows = 5, in = 37, out = 11;
        for (DType dt : DType.values()) {
            float[] x = rand(rows * in), wv = rand(out * in), bv = rand(out);
            Tensor wt = tensor("w", dt, wv, out, in), bt = tensor("b", dt, bv, out);
            float[] w = wt.toFloatArray(), b = bt.toFloatArray(); // the rounded values the kernel sees
            for (boolean withBias : new boolean[] {false, true}) {
                double[] exp = new double[rows * out];
                for (int r = 0; r < rows; r++) {
                    for (int o = 0; o < out; o++) {
                        double s = withBias ? b[o] : 0;
                        for (int i = 0; i < in; i++) s += (double) x[r * in + i] * w[o * in + i];
                        exp[r * out + o] = s;
                    }
                }
                try (Buffer xb = be.upload(x); Buffer ob = be.allocate(rows * out);
                     WeightHandle wh = be.upload(wt); WeightHandle bh = be.upload(bt)) {
                    be.matmul(xb, rows, wh, withBias ? bh : null, ob);
                    close(exp, be.download(ob), "matmul " + dt + " bias=" + withBias);
                }
            }
        }
    }

    @Test
    void downloadOfARange() {
        float[] x = rand(40);
        Buffer b = be.upload(x);
        assertArrayEquals(java.util.Arrays.copyOfRange(x, 17, 30), be.download(b, 17, 13));
        assertArrayEquals(x, be.download(b));
        assertEquals(0, be.download(b, 40, 0).length);
        assertThrows(IndexOutOfBoundsException.class, () -> be.download(b, 30, 11));
    }

    @Test
    void embeddingGathersDecodedRows() {
        float[] table = rand(7 * 4);
        Tensor t = tensor("emb", DType.BF16, table, 7, 4);
        float[] dec = t.toFloatArray();
        int[] tokens = {3, 0, 6, 3};
        try (Buffer out = be.allocate(16)) {
            be.embedding(be.upload(t), tokens, out);
            float[] got = be.download(out);
            for (int r = 0; r < tokens.length; r++)
                for (int i = 0; i < 4; i++) assertEquals(dec[tokens[r] * 4 + i], got[r * 4 + i]);
        }
        assertThrows(IllegalArgumentException.class, () -> be.embedding(be.upload(t), new int[] {7}, be.allocate(4)));
    }

    @Test
    void rmsnorm() {
        int rows = 3, n = 19;
        float eps = 1e-5f;
        float[] x = rand(rows * n), g = rand(n);
        double[] exp = new double[rows * n];
        for (int r = 0; r < rows; r++) {
            double ss = 0;
            for (int i = 0; i < n; i++) ss += (double) x[r * n + i] * x[r * n + i];
            double inv = 1 / Math.sqrt(ss / n + eps);
            for (int i = 0; i < n; i++) exp[r * n + i] = x[r * n + i] * inv * g[i];
        }
        Buffer out = be.allocate(rows * n);
        be.rmsnorm(be.upload(x), be.upload(tensor("g", DType.F32, g, n)), rows, eps, out);
        close(exp, be.download(out), "rmsnorm");
    }

    @Test
    void ropeRotatesHalvesByPositionTimesFrequency() {
        int rows = 3, heads = 2, hd = 8;
        float[] x = rand(rows * heads * hd);
        int[] pos = {0, 5, 17};
        float[] inv = RopeTable.inverseFrequencies(hd, 10000, null);
        double[] exp = new double[x.length];
        for (int r = 0; r < rows; r++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < hd / 2; i++) {
                    int a = (r * heads + h) * hd + i, b = a + hd / 2;
                    double th = pos[r] * Math.pow(10000, -2.0 * i / hd);
                    exp[a] = x[a] * Math.cos(th) - x[b] * Math.sin(th);
                    exp[b] = x[b] * Math.cos(th) + x[a] * Math.sin(th);
                }
        Buffer xb = be.upload(x);
        be.rope(xb, rows, heads, hd, pos, be.upload(inv));
        float[] got = be.download(xb);
        for (int i = 0; i < x.length; i++) assertEquals(exp[i], got[i], 1e-4, "rope " + i); // angle rounding in f32
        // position 0 is the identity
        for (int i = 0; i < heads * hd; i++) assertEquals(x[i], got[i]);
    }

    @Test
    void llama3FrequencyScaling() {
        RopeScaling s = new RopeScaling(8, 1, 4, 8192);
        float[] plain = RopeTable.inverseFrequencies(64, 500000, null);
        float[] scaled = RopeTable.inverseFrequencies(64, 500000, s);
        for (int i = 0; i < plain.length; i++) {
            double wavelen = 2 * Math.PI / plain[i];
            if (wavelen < 8192 / 4.0) assertEquals(plain[i], scaled[i], 1e-12 + 1e-6 * plain[i], "high frequency kept");
            else if (wavelen > 8192 / 1.0) assertEquals(plain[i] / 8, scaled[i], 1e-6 * plain[i], "low frequency / factor");
            else assertTrue(scaled[i] < plain[i] && scaled[i] > plain[i] / 8, "medium frequency between");
        }
        assertEquals(plain[0], scaled[0]); // i = 0: frequency 1, wavelength 2 pi
    }

    @Test
    void attentionGroupedQueryCausalOverCache() {
        int heads = 4, kvHeads = 2, hd = 4, layers = 2;
        int qd = heads * hd, kvd = kvHeads * hd;
        // sequence A: 3 positions prefilled now; sequence B: 2 positions already cached + 2 new
        int[] lens = {3, 2};
        float[] kPrev = rand(2 * kvd), vPrev = rand(2 * kvd);
        KvCache ca = be.allocateKvCache(layers, kvHeads, hd, 8), cb = be.allocateKvCache(layers, kvHeads, hd, 8);
        be.attention(1, be.upload(rand(2 * qd)), be.upload(kPrev), be.upload(vPrev),
                List.of(new SeqSlice(cb, 0, 2, 0)), heads, kvHeads, hd, be.allocate(2 * qd));
        int rows = 5;
        float[] q = rand(rows * qd), k = rand(rows * kvd), v = rand(rows * kvd);
        Buffer out = be.allocate(rows * qd);
        be.attention(1, be.upload(q), be.upload(k), be.upload(v),
                List.of(new SeqSlice(ca, 0, 3, 0), new SeqSlice(cb, 3, 2, 2)), heads, kvHeads, hd, out);
        float[] got = be.download(out);
        // expected, sequence by sequence, with explicit key/value lists
        for (int r = 0; r < rows; r++) {
            boolean inA = r < 3;
            int pos = inA ? r : 2 + (r - 3);
            for (int h = 0; h < heads; h++) {
                int g = h / (heads / kvHeads);
                double[] sc = new double[pos + 1];
                for (int t = 0; t <= pos; t++) {
                    float[] keys = inA ? k : (t < 2 ? kPrev : k);
                    int krow = inA ? t : (t < 2 ? t : 3 + t - 2);
                    double d = 0;
                    for (int i = 0; i < hd; i++) d += (double) q[r * qd + h * hd + i] * keys[krow * kvd + g * hd + i];
                    sc[t] = d / Math.sqrt(hd);
                }
                double max = Double.NEGATIVE_INFINITY, z = 0;
                for (double s : sc) max = Math.max(max, s);
                for (int t = 0; t <= pos; t++) z += Math.exp(sc[t] - max);
                for (int i = 0; i < hd; i++) {
                    double o = 0;
                    for (int t = 0; t <= pos; t++) {
                        float[] vals = inA ? v : (t < 2 ? vPrev : v);
                        int vrow = inA ? t : (t < 2 ? t : 3 + t - 2);
                        o += Math.exp(sc[t] - max) / z * vals[vrow * kvd + g * hd + i];
                    }
                    double tol = ABS + REL * Math.abs(o);
                    assertEquals(o, got[r * qd + h * hd + i], tol, "row " + r + " head " + h + " dim " + i);
                }
            }
        }
        assertThrows(IllegalArgumentException.class, () -> be.attention(0, be.upload(q), be.upload(k), be.upload(v),
                List.of(new SeqSlice(ca, 0, 5, 6)), heads, kvHeads, hd, be.allocate(rows * qd)), "capacity 8 exceeded");
    }

    @Test
    void siluMulAddGather() {
        int n = 50;
        float[] g = rand(n), u = rand(n), y = rand(n);
        Buffer gb = be.upload(g), xb = be.upload(u);
        be.siluMul(gb, be.upload(u), n);
        be.add(xb, be.upload(y), n);
        float[] gs = be.download(gb), xs = be.download(xb);
        for (int i = 0; i < n; i++) {
            double silu = g[i] / (1 + Math.exp(-g[i]));
            assertEquals(silu * u[i], gs[i], ABS + REL * Math.abs(silu * u[i]));
            assertEquals((double) u[i] + y[i], xs[i], 1e-6);
        }
        Buffer out = be.allocate(10);
        be.gatherRows(be.upload(g), 5, new int[] {3, 1}, out);
        float[] got = be.download(out);
        for (int i = 0; i < 5; i++) { assertEquals(g[15 + i], got[i]); assertEquals(g[5 + i], got[5 + i]); }
    }

    @Test
    void topKStatsHandWorked() {
        // row 0: ten equal logits and 2 lower ones -> uniform top 10, entropy ln 10, target (id 3) prob 0.1
        // row 1: logits [ln 4, ln 2, ln 1, ln 1] with k = 2 -> top {0, 1}, probs 2/3, 1/3; target 2 outside
        // row 2: same with target 1 -> 1/3
        int vocab = 12;
        float[] l = new float[3 * vocab];
        for (int i = 0; i < 10; i++) l[i] = 2.5f;
        l[10] = -1f; l[11] = 2.4f;
        TopKStats s = be.topKStats(be.upload(java.util.Arrays.copyOf(l, vocab)), 1, vocab, new int[] {3}, 10);
        assertEquals(0.1f, s.targetProb()[0], 1e-6);
        assertTrue(s.targetInTopK()[0]);
        assertEquals(Math.log(10), s.entropy()[0], 1e-6);
        s = be.topKStats(be.upload(java.util.Arrays.copyOf(l, vocab)), 1, vocab, new int[] {11}, 10);
        assertFalse(s.targetInTopK()[0]);
        assertEquals(0f, s.targetProb()[0]);

        float[] m = {(float) Math.log(4), (float) Math.log(2), 0f, 0f, (float) Math.log(4), (float) Math.log(2), 0f, 0f};
        s = be.topKStats(be.upload(m), 2, 4, new int[] {2, 1}, 2);
        assertFalse(s.targetInTopK()[0]);
        assertEquals(1 / 3.0, s.targetProb()[1], 1e-6);
        double h = -(2 / 3.0) * Math.log(2 / 3.0) - (1 / 3.0) * Math.log(1 / 3.0);
        assertEquals(h, s.entropy()[0], 1e-6);
        assertEquals(h, s.entropy()[1], 1e-6);
    }

    @Test
    void topKTiesPreferLowerIds() {
        float[] l = {1, 3, 3, 2, 3};
        // top 2 of {1:3, 2:3, 4:3}: ids 1 and 2 (lower ids first), uniform -> 0.5 each; id 4 is left out
        TopKStats s = be.topKStats(be.upload(l), 1, 5, new int[] {4}, 2);
        assertFalse(s.targetInTopK()[0]);
        s = be.topKStats(be.upload(l), 1, 5, new int[] {2}, 2);
        assertEquals(0.5f, s.targetProb()[0], 1e-6);
    }

    @Test
    void topKStatsAgainstSortOnRandomRows() {
        int rows = 6, vocab = 300;
        float[] l = rand(rows * vocab);
        int[] targets = new int[rows];
        for (int r = 0; r < rows; r++) targets[r] = rnd.nextInt(vocab);
        targets[0] = 0; // force one target into the top 10 of row 0
        l[0] = 10f;
        TopKStats s = be.topKStats(be.upload(l), rows, vocab, targets, 10);
        for (int r = 0; r < rows; r++) {
            final int rr = r;
            Integer[] ids = new Integer[vocab];
            for (int i = 0; i < vocab; i++) ids[i] = i;
            java.util.Arrays.sort(ids, (a, b) -> Float.compare(l[rr * vocab + b], l[rr * vocab + a]));
            double z = 0, ent = 0, pt = 0;
            boolean in = false;
            for (int j = 0; j < 10; j++) z += Math.exp(l[r * vocab + ids[j]]);
            for (int j = 0; j < 10; j++) {
                double p = Math.exp(l[r * vocab + ids[j]]) / z;
                ent -= p * Math.log(p);
                if (ids[j] == targets[r]) { in = true; pt = p; }
            }
            assertEquals(in, s.targetInTopK()[r]);
            assertEquals(pt, s.targetProb()[r], 1e-6);
            assertEquals(ent, s.entropy()[r], 1e-5);
        }
        assertTrue(s.targetInTopK()[0]);
    }
}
