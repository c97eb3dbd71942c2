package io.sn11.engine.backend;

import io.sn11.engine.safetensors.DType;
import io.sn11.engine.safetensors.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.IntConsumer;

/**
 * The reference backend: plain scalar Java over float arrays, weights decoded from their memory-mapped bytes on the
 * fly. Work is split over a private pool ({@code threads} workers) by rows or output columns. {@link VectorBackend}
 * replaces its kernels with SIMD ones over the same storage, and every one of them is tested against this.
 */
public class ScalarBackend implements Backend {
    private final ParallelLoop loop;

    public ScalarBackend() { this(Runtime.getRuntime().availableProcessors()); }

    public ScalarBackend(int threads) {
        this.loop = new ParallelLoop(threads);
    }

    @Override public String name() { return "scalar"; }

    final int threads() { return loop.threads(); }

    @Override
    public Map<String, Object> settings() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("threads", threads());
        m.put("accumulate", "f32");
        return m;
    }

    // ---------------------------------------------------------------- storage

    static final class CpuBuffer implements Buffer {
        final float[] data;
        CpuBuffer(float[] data) { this.data = data; }
        @Override public int size() { return data.length; }
        @Override public void close() {}
    }

    /** A weight kept in its stored bytes (the tensor's segment); {@link #row} decodes one row into floats. */
    static final class CpuWeight implements WeightHandle {
        final String name;
        final DType dtype;
        final int rows, cols;
        final MemorySegment data;

        CpuWeight(Tensor t) {
            this.name = t.name();
            this.dtype = t.dtype();
            Tensor.Matrix extent = t.asMatrix();
            rows = extent.rows();
            cols = extent.cols();
            data = t.data();
        }

        @Override public String name() { return name; }
        @Override public DType dtype() { return dtype; }
        @Override public int rows() { return rows; }
        @Override public int cols() { return cols; }
        @Override public void close() {}

        /** Element i (flat, row-major) as float. */
        float element(long i) {
            return switch (dtype) {
                case F32 -> data.getAtIndex(Tensor.FLOAT_LE, i);
                case F16 -> DType.halfToFloat(data.getAtIndex(Tensor.SHORT_LE, i));
                case BF16 -> DType.bf16ToFloat(data.getAtIndex(Tensor.SHORT_LE, i));
            };
        }

        /** Copies n 16-bit elements from flat element index {@code first} into dst (F16 and BF16 weights). */
        void shorts(long first, short[] dst, int n) {
            MemorySegment.copy(data, Tensor.SHORT_LE, first * 2, dst, 0, n);
        }

        /** Decodes row r into dst[0..cols); scratch must hold cols shorts. */
        void row(int r, float[] dst, short[] scratch) {
            long base = (long) r * cols;
            if (dtype == DType.F32) {
                MemorySegment.copy(data, Tensor.FLOAT_LE, base * 4, dst, 0, cols);
            } else {
                shorts(base, scratch, cols);
                if (dtype == DType.BF16) {
                    for (int i = 0; i < cols; i++) dst[i] = Float.intBitsToFloat((scratch[i] & 0xffff) << 16);
                } else {
                    for (int i = 0; i < cols; i++) dst[i] = DType.halfToFloat(scratch[i]);
                }
            }
        }

        float[] all() {
            float[] out = new float[rows * cols];
            float[] tmp = new float[cols];
            short[] sc = new short[cols];
            for (int r = 0; r < rows; r++) {
                row(r, tmp, sc);
                System.arraycopy(tmp, 0, out, r * cols, cols);
            }
            return out;
        }
    }

    static final class CpuKvCache implements KvCache {
        final float[][] keys, values; // [layer][pos * kvDim + j]
        final int capacity, kvDim;
        CpuKvCache(int layers, int kvDim, int capacity) {
            this.capacity = capacity;
            this.kvDim = kvDim;
            keys = new float[layers][Math.multiplyExact(capacity, kvDim)];
            values = new float[layers][Math.multiplyExact(capacity, kvDim)];
        }
        @Override public int capacity() { return capacity; }
        @Override public void close() {}
    }

    static float[] a(Buffer b) { return ((CpuBuffer) b).data; }
    static CpuWeight w(WeightHandle h) { return (CpuWeight) h; }

    @Override public Buffer allocate(int floats) { return new CpuBuffer(new float[floats]); }
    @Override public Buffer upload(float[] data) { return new CpuBuffer(data.clone()); }
    @Override
    public float[] download(Buffer buffer, int offset, int floats) {
        float[] data = a(buffer);
        Objects.checkFromIndexSize(offset, floats, data.length);
        return Arrays.copyOfRange(data, offset, offset + floats);
    }

    @Override public WeightHandle upload(Tensor tensor) { return new CpuWeight(tensor); }

    @Override
    public KvCache allocateKvCache(int layers, int kvHeads, int headDim, int capacity) {
        return new CpuKvCache(layers, kvHeads * headDim, capacity);
    }

    /** Runs body(i) for i in [0, n) on the worker threads; see {@link ParallelLoop#run}. */
    final void parallelFor(int n, long workPerItem, IntConsumer body) { loop.run(n, workPerItem, body); }

    // ---------------------------------------------------------------- kernels

    @Override
    public void embedding(WeightHandle table, int[] tokens, Buffer out) {
        CpuWeight t = w(table);
        float[] o = a(out);
        parallelFor(tokens.length, t.cols, r -> {
            int tok = tokens[r];
            if (tok < 0 || tok >= t.rows) throw new IllegalArgumentException("token id " + tok + " outside vocab " + t.rows);
            float[] row = new float[t.cols];
            t.row(tok, row, new short[t.cols]);
            System.arraycopy(row, 0, o, r * t.cols, t.cols);
        });
    }

    @Override
    public void rmsnorm(Buffer x, WeightHandle weight, int rows, float eps, Buffer out) {
        float[] wt = w(weight).all();
        int n = wt.length;
        float[] xi = a(x), o = a(out);
        parallelFor(rows, 3L * n, r -> {
            int base = r * n;
            double ss = 0;
            for (int i = 0; i < n; i++) ss += (double) xi[base + i] * xi[base + i];
            float scale = (float) (1.0 / Math.sqrt(ss / n + eps));
            for (int i = 0; i < n; i++) o[base + i] = xi[base + i] * scale * wt[i];
        });
    }

    @Override
    public void matmul(Buffer x, int rows, WeightHandle weight, WeightHandle bias, Buffer out) {
        CpuWeight wt = w(weight);
        float[] xi = a(x), o = a(out);
        float[] b = bias == null ? null : w(bias).all();
        int in = wt.cols, outDim = wt.rows;
        if (xi.length < rows * in || o.length < rows * outDim) {
            throw new IllegalArgumentException("matmul " + wt.name + ": buffers too small for " + rows + " rows");
        }
        ThreadLocal<float[]> rowBuf = ThreadLocal.withInitial(() -> new float[in]);
        ThreadLocal<short[]> scratch = ThreadLocal.withInitial(() -> new short[in]);
        // Every output is one F32 accumulator summed in index order, whichever path computes it, so a row's result does
        // not depend on the batch it came in (prefill and decode agree bit for bit).
        boolean fused = rows < 4 && wt.dtype != DType.F32;
        if (fused) {
            // few rows (decode): four weight rows at a time, converted while multiplying, x loaded once per four
            int groups = (outDim + 3) / 4;
            ThreadLocal<short[]> block = ThreadLocal.withInitial(() -> new short[4 * in]);
            boolean bf16 = wt.dtype == DType.BF16;
            parallelFor(groups, 4L * (rows + 1) * in, g -> {
                int j0 = g * 4, n = Math.min(4, outDim - j0);
                short[] sc = block.get();
                wt.shorts((long) j0 * in, sc, n * in);
                for (int r = 0; r < rows; r++) {
                    int xo = r * in;
                    if (n == 4) {
                        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                        for (int i = 0; i < in; i++) {
                            float xv = xi[xo + i];
                            if (bf16) {
                                s0 += xv * Float.intBitsToFloat(sc[i] << 16);
                                s1 += xv * Float.intBitsToFloat(sc[in + i] << 16);
                                s2 += xv * Float.intBitsToFloat(sc[2 * in + i] << 16);
                                s3 += xv * Float.intBitsToFloat(sc[3 * in + i] << 16);
                            } else {
                                s0 += xv * DType.halfToFloat(sc[i]);
                                s1 += xv * DType.halfToFloat(sc[in + i]);
                                s2 += xv * DType.halfToFloat(sc[2 * in + i]);
                                s3 += xv * DType.halfToFloat(sc[3 * in + i]);
                            }
                        }
                        int ob = r * outDim + j0;
                        o[ob] = s0 + (b == null ? 0f : b[j0]);
                        o[ob + 1] = s1 + (b == null ? 0f : b[j0 + 1]);
                        o[ob + 2] = s2 + (b == null ? 0f : b[j0 + 2]);
                        o[ob + 3] = s3 + (b == null ? 0f : b[j0 + 3]);
                    } else {
                        for (int c = 0; c < n; c++) {
                            float s0 = 0;
                            for (int i = 0; i < in; i++) {
                                short wv = sc[c * in + i];
                                s0 += xi[xo + i] * (bf16 ? Float.intBitsToFloat(wv << 16) : DType.halfToFloat(wv));
                            }
                            o[r * outDim + j0 + c] = s0 + (b == null ? 0f : b[j0 + c]);
                        }
                    }
                }
            });
            return;
        }
        parallelFor(outDim, (long) rows * in + in, j -> {
            float bj = b == null ? 0f : b[j];
            // many rows (prefill): decode the weight row once, then four input rows at a time
            float[] wr = rowBuf.get();
            wt.row(j, wr, scratch.get());
            int r = 0;
            for (; r + 3 < rows; r += 4) {
                float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                int o0 = r * in, o1 = o0 + in, o2 = o1 + in, o3 = o2 + in;
                for (int i = 0; i < in; i++) {
                    float wv = wr[i];
                    s0 += xi[o0 + i] * wv;
                    s1 += xi[o1 + i] * wv;
                    s2 += xi[o2 + i] * wv;
                    s3 += xi[o3 + i] * wv;
                }
                o[r * outDim + j] = s0 + bj;
                o[(r + 1) * outDim + j] = s1 + bj;
                o[(r + 2) * outDim + j] = s2 + bj;
                o[(r + 3) * outDim + j] = s3 + bj;
            }
            for (; r < rows; r++) {
                // same summation order as the blocked loop: a row's result does not depend on how rows are grouped
                float s0 = 0;
                int o0 = r * in;
                for (int i = 0; i < in; i++) s0 += xi[o0 + i] * wr[i];
                o[r * outDim + j] = s0 + bj;
            }
        });
    }

    @Override
    public void rope(Buffer x, int rows, int heads, int headDim, int[] positions, Buffer invFreq) {
        float[] xi = a(x), inv = a(invFreq);
        int half = headDim / 2;
        parallelFor(rows, (long) heads * headDim * 4, r -> {
            float[] cos = new float[half], sin = new float[half];
            for (int i = 0; i < half; i++) {
                float angle = positions[r] * inv[i];
                cos[i] = (float) Math.cos(angle);
                sin[i] = (float) Math.sin(angle);
            }
            for (int h = 0; h < heads; h++) {
                int base = (r * heads + h) * headDim;
                for (int i = 0; i < half; i++) {
                    float x0 = xi[base + i], x1 = xi[base + i + half];
                    xi[base + i] = x0 * cos[i] - x1 * sin[i];
                    xi[base + i + half] = x1 * cos[i] + x0 * sin[i];
                }
            }
        });
    }

    @Override
    public void attention(int layer, Buffer q, Buffer k, Buffer v, List<SeqSlice> batch, int heads, int kvHeads,
                          int headDim, Buffer out) {
        float[] qa = a(q), ka = a(k), va = a(v), o = a(out);
        int kvDim = kvHeads * headDim, qDim = heads * headDim, group = heads / kvHeads;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        storeKeysValues(layer, ka, va, batch, kvDim);
        // 2. one task per (row, head)
        int totalRows = 0;
        for (SeqSlice s : batch) totalRows += s.length();
        int[] sliceOfRow = new int[totalRows];
        int[] rowIds = new int[totalRows];
        int idx = 0;
        for (int si = 0; si < batch.size(); si++) {
            SeqSlice s = batch.get(si);
            for (int i = 0; i < s.length(); i++) { sliceOfRow[idx] = si; rowIds[idx] = i; idx++; }
        }
        long avgPos = 1;
        for (SeqSlice s : batch) avgPos = Math.max(avgPos, s.startPos() + s.length());
        parallelFor(totalRows * heads, avgPos * headDim * 2, task -> {
            int rr = task / heads, h = task % heads;
            SeqSlice s = batch.get(sliceOfRow[rr]);
            CpuKvCache c = (CpuKvCache) s.cache();
            float[] keys = c.keys[layer], vals = c.values[layer];
            int row = s.firstRow() + rowIds[rr];
            int pos = s.startPos() + rowIds[rr];
            int qOff = row * qDim + h * headDim;
            int kvOff = (h / group) * headDim;
            float[] scores = new float[pos + 1];
            float max = Float.NEGATIVE_INFINITY;
            for (int t = 0; t <= pos; t++) {
                float sc = 0;
                int ko = t * kvDim + kvOff;
                for (int d = 0; d < headDim; d++) sc += qa[qOff + d] * keys[ko + d];
                sc *= scale;
                scores[t] = sc;
                if (sc > max) max = sc;
            }
            float sum = 0;
            for (int t = 0; t <= pos; t++) { scores[t] = (float) Math.exp(scores[t] - max); sum += scores[t]; }
            int oOff = row * qDim + h * headDim;
            for (int d = 0; d < headDim; d++) o[oOff + d] = 0;
            for (int t = 0; t <= pos; t++) {
                float p = scores[t] / sum;
                int vo = t * kvDim + kvOff;
                for (int d = 0; d < headDim; d++) o[oOff + d] += p * vals[vo + d];
            }
        });
    }

    /** Step 1 of attention: each slice's new keys and values go to its cache at {@code layer}. */
    static void storeKeysValues(int layer, float[] ka, float[] va, List<SeqSlice> batch, int kvDim) {
        for (SeqSlice s : batch) {
            CpuKvCache c = (CpuKvCache) s.cache();
            if (s.startPos() + s.length() > c.capacity) {
                throw new IllegalArgumentException("kv cache capacity " + c.capacity + " exceeded at position "
                        + (s.startPos() + s.length()));
            }
            System.arraycopy(ka, s.firstRow() * kvDim, c.keys[layer], s.startPos() * kvDim, s.length() * kvDim);
            System.arraycopy(va, s.firstRow() * kvDim, c.values[layer], s.startPos() * kvDim, s.length() * kvDim);
        }
    }

    @Override
    public void siluMul(Buffer gate, Buffer up, int n) {
        float[] g = a(gate), u = a(up);
        parallelFor(n, 16, i -> {
            float x = g[i];
            g[i] = x / (1f + (float) Math.exp(-x)) * u[i];
        });
    }

    @Override
    public void add(Buffer x, Buffer y, int n) {
        float[] xa = a(x), ya = a(y);
        for (int i = 0; i < n; i++) xa[i] += ya[i];
    }

    @Override
    public void gatherRows(Buffer src, int cols, int[] rows, Buffer out) {
        float[] s = a(src), o = a(out);
        for (int i = 0; i < rows.length; i++) System.arraycopy(s, rows[i] * cols, o, i * cols, cols);
    }

    @Override
    public TopKStats topKStats(Buffer logits, int rows, int vocab, int[] targets, int k) {
        float[] l = a(logits);
        if (k < 1 || k > vocab) throw new IllegalArgumentException("k must be in [1, vocab]");
        float[] prob = new float[rows], entropy = new float[rows];
        boolean[] in = new boolean[rows];
        parallelFor(rows, vocab, r -> {
            int base = r * vocab;
            int[] idx = topKIds(l, base, vocab, k);
            double max = l[base + idx[0]];
            double z = 0;
            double[] e = new double[k];
            for (int i = 0; i < k; i++) { e[i] = Math.exp(l[base + idx[i]] - max); z += e[i]; }
            double h = 0;
            for (int i = 0; i < k; i++) {
                double p = e[i] / z;
                if (p > 0) h -= p * Math.log(p);
                if (idx[i] == targets[r]) { prob[r] = (float) p; in[r] = true; }
            }
            entropy[r] = (float) h;
        });
        return new TopKStats(prob, in, entropy);
    }

    /** Indices of the k largest values of l[base..base+n), largest first; ties keep the lower index first. */
    static int[] topK(float[] l, int base, int n, int k) {
        TopK top = new TopK(k);
        for (int i = 0; i < n; i++) top.offer(l[base + i], i);
        return top.ids;
    }

    /** The selection step of {@link #topKStats}, which {@link VectorBackend} replaces with a SIMD scan. */
    int[] topKIds(float[] l, int base, int n, int k) { return topK(l, base, n, k); }

    @Override
    public void close() {
        loop.close();
    }
}
