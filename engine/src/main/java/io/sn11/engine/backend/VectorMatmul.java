package io.sn11.engine.backend;

import io.sn11.engine.backend.ScalarBackend.CpuWeight;
import io.sn11.engine.safetensors.DType;
import io.sn11.engine.safetensors.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * {@code out[rows x outDim] = x[rows x in] . W^T (+ bias)} with the Vector API, W {@code [outDim x in]} in BF16, F16 or
 * F32, F32 accumulation with FMA; one x may be multiplied by several weights at once (fused q/k/v, gate/up), their
 * output rows split over the threads as one loop.
 *
 * <p>Two paths:
 * <ul>
 * <li>{@link #block}: any dtype and row count. A block of {@link #BLOCK_ROWS} weight rows is converted to floats
 * {@link #CHUNK} columns at a time into a per-thread tile, and every token row passes over the tile before the next
 * chunk: each weight is converted once per call however many tokens there are. The micro-kernel multiplies 4 token
 * rows by 4 weight rows with 16 vector accumulators, which wait in a per-thread array between chunks.
 * <li>{@link #gemvRows}: BF16 with fewer than {@link #MIN_TILED_ROWS} rows (decode). Memory-bound: the weights stream
 * from memory once, converted in registers, 4 rows at a time sharing each load of x.
 * </ul>
 *
 * <p>BF16 weights are read as ints holding a pair of bfloat16s: {@code i << 16} is the even element and {@code i &
 * 0xFFFF0000} the odd one, two ALU ops per 2L weights (faster than widening shorts: 23.5 against 20 GB/s on one core).
 * So a BF16 row is laid out in groups of 2L columns, the L even ones then the L odd ones, in the tile and in x (which is
 * rearranged once per call).
 *
 * <p>Both paths give every output one vector accumulator that takes the same products in the same order, and reduce it
 * once, in a fixed order, at the end: an output depends neither on the path, nor on the number of rows, nor on the
 * threads (prefill and decode agree bit for bit, as in the scalar reference).
 */
final class VectorMatmul {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    /** Columns per group: a BF16 pair-vector holds 2L of them; rows of x and of the tiles are padded to whole groups. */
    private static final int GROUP = 2 * L;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    /**
     * Weight rows per tile and columns per chunk: a 16 x 512 float tile is 32 KiB, which stays in a 48 KiB L1 with the
     * 4 x 512 slice of x it meets (on Zen 5, 8 x 512, 16 x 256, 32 x 256 and 64 x 128 were slower, 16 x 1024 and 32 x 512
     * no faster; padding the rows against cache-set conflicts did not help either).
     */
    private static final int BLOCK_ROWS = 16, CHUNK = 512;
    /** Below this many token rows, a BF16 matmul is a gemv over the streamed weights (the 4 x 4 kernel needs 4). */
    private static final int MIN_TILED_ROWS = 4;
    /** Weight rows per gemv step: 4 rows share each x load, and their 4 accumulators are independent. */
    private static final int GEMV_ROWS = 4;

    /** One weight of the call, its bias (null: none) and its output. */
    record Target(CpuWeight weight, CpuWeight bias, float[] out) {}

    private final ScalarBackend pool;
    private final ThreadLocal<float[]> tiles = ThreadLocal.withInitial(() -> new float[BLOCK_ROWS * CHUNK]);
    /** A block's accumulators, {@code rows x BLOCK_ROWS} vectors; grown, never shrunk (like the scratch below). */
    private final ThreadLocal<float[]> accumulators = ThreadLocal.withInitial(() -> new float[0]);
    /** The caller's x rearranged: rows padded to whole groups, BF16 pairs deinterleaved. */
    private final ThreadLocal<float[]> xScratch = ThreadLocal.withInitial(() -> new float[0]);

    VectorMatmul(ScalarBackend pool) { this.pool = pool; }

    /** Multiplies x (rows of {@code in = weight.cols}) by every target's weight. */
    void multiply(float[] x, int rows, Target... targets) {
        int in = targets[0].weight().cols;
        DType dtype = targets[0].weight().dtype;
        for (Target t : targets) {
            CpuWeight w = t.weight();
            if (w.cols != in) throw new IllegalArgumentException("matmul " + w.name + ": " + w.cols + " columns, not " + in);
            if (x.length < rows * in || t.out().length < rows * w.rows) {
                throw new IllegalArgumentException("matmul " + w.name + ": buffers too small for " + rows + " rows");
            }
            if (w.dtype != dtype) {
                // x is laid out for one dtype: weights stored in different dtypes go one by one
                for (Target each : targets) multiply(x, rows, each);
                return;
            }
        }
        if (rows == 0) return;
        boolean pairs = dtype == DType.BF16;
        int stride = roundUp(in, GROUP);
        float[] xs = layOut(x, rows, in, stride, pairs);
        if (pairs && rows < MIN_TILED_ROWS) {
            forEachUnit(targets, GEMV_ROWS, (long) rows * GEMV_ROWS * in, (t, j0) -> gemvRows(t, j0, xs, stride, rows));
        } else {
            forEachUnit(targets, BLOCK_ROWS, (long) rows * BLOCK_ROWS * in, (t, j0) -> block(t, j0, xs, stride, rows));
        }
    }

    /** x with rows of {@code stride} floats, zero-padded, BF16 pairs deinterleaved; x itself when that is x already. */
    private float[] layOut(float[] x, int rows, int in, int stride, boolean pairs) {
        if (!pairs && stride == in) return x;
        float[] xs = grown(xScratch, rows * stride);
        for (int r = 0; r < rows; r++) {
            int src = r * in, dst = r * stride;
            if (!pairs) {
                System.arraycopy(x, src, xs, dst, in);
                Arrays.fill(xs, dst + in, dst + stride, 0f);
                continue;
            }
            for (int g = 0; g < stride; g += GROUP) {
                for (int i = 0; i < L; i++) {
                    int k = g + 2 * i;
                    xs[dst + g + i] = k < in ? x[src + k] : 0f;
                    xs[dst + g + L + i] = k + 1 < in ? x[src + k + 1] : 0f;
                }
            }
        }
        return xs;
    }

    private static float[] grown(ThreadLocal<float[]> scratch, int floats) {
        float[] s = scratch.get();
        if (s.length < floats) {
            s = new float[floats];
            scratch.set(s);
        }
        return s;
    }

    /** Runs {@code unit} over every target's output rows in units of {@code unitRows}, all targets in one loop. */
    private void forEachUnit(Target[] targets, int unitRows, long workPerUnit, Unit unit) {
        int[] firstUnit = new int[targets.length + 1];
        for (int t = 0; t < targets.length; t++) {
            firstUnit[t + 1] = firstUnit[t] + Math.ceilDiv(targets[t].weight().rows, unitRows);
        }
        pool.parallelFor(firstUnit[targets.length], workPerUnit, u -> {
            int t = 0;
            while (u >= firstUnit[t + 1]) t++;
            unit.run(targets[t], (u - firstUnit[t]) * unitRows);
        });
    }

    private interface Unit { void run(Target target, int firstRow); }

    /**
     * {@code out[o] = bias[j] + the lanes of acc[a, a + L)} summed in index order. Not {@code reduceLanes(ADD)}: its
     * order is the implementation's and differs between interpreted and compiled code, so a call could give another
     * result once the JIT compiled it (a butterfly of rearranges was not inlined and ran 20 times slower).
     */
    private static void finish(Target t, int o, int j, float[] acc, int a) {
        float s = 0f;
        for (int i = 0; i < L; i++) s += acc[a + i];
        t.out()[o] = (t.bias() == null ? 0f : t.bias().element(j)) + s;
    }

    // ------------------------------------------------------------------ tiled (prefill, scoring; F16 and F32 always)

    /** Output columns {@code [j0, j0 + BLOCK_ROWS)} of one target for every row. */
    private void block(Target t, int j0, float[] x, int xStride, int rows) {
        CpuWeight w = t.weight();
        int outDim = w.rows, in = w.cols, n = Math.min(BLOCK_ROWS, outDim - j0);
        float[] tile = tiles.get(), acc = grown(accumulators, rows * BLOCK_ROWS * L);
        int accRow = BLOCK_ROWS * L;  // floats of one token row's accumulators
        Arrays.fill(acc, 0, rows * accRow, 0f);
        for (int k0 = 0; k0 < in; k0 += CHUNK) {
            int len = Math.min(CHUNK, in - k0), width = roundUp(len, GROUP);
            fillTile(w, j0, n, k0, len, width, tile);
            int r = 0;
            for (; r + 4 <= rows; r += 4) {
                for (int c = 0; c < n; c += 4) {
                    kernel4x4(tile, c * width, width, x, r * xStride + k0, xStride, acc, r * accRow + c * L, accRow);
                }
            }
            for (; r < rows; r++) {
                for (int c = 0; c < n; c += 4) kernel1x4(tile, c * width, width, x, r * xStride + k0, acc, r * accRow + c * L);
            }
        }
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < n; c++) finish(t, r * outDim + j0 + c, j0 + c, acc, r * accRow + c * L);
        }
    }

    /**
     * Converts weight rows {@code [j0, j0 + n)}, columns {@code [k0, k0 + len)} to floats: tile row c at {@code c *
     * width}. Columns up to {@code width} and rows up to a multiple of 4 are zero, so the kernels read only zeros there.
     */
    private static void fillTile(CpuWeight w, int j0, int n, int k0, int len, int width, float[] tile) {
        MemorySegment data = w.data;
        for (int c = 0; c < n; c++) {
            long src = (long) (j0 + c) * w.cols + k0;  // element index
            int dst = c * width;
            switch (w.dtype) {
                case F32 -> MemorySegment.copy(data, Tensor.FLOAT_LE, src * 4, tile, dst, len);
                case F16 -> {
                    // Float.float16ToFloat is an intrinsic (vcvtph2ps) that C2 vectorises in this loop
                    for (int k = 0; k < len; k++) tile[dst + k] = Float.float16ToFloat(data.getAtIndex(Tensor.SHORT_LE, src + k));
                }
                case BF16 -> {
                    int k = 0;
                    for (; k + GROUP <= len; k += GROUP) {
                        IntVector p = IntVector.fromMemorySegment(I, data, (src + k) * 2, LE);
                        even(p).intoArray(tile, dst + k);
                        odd(p).intoArray(tile, dst + k + L);
                    }
                    if (k < len) lastGroup(data, src + k, len - k, tile, dst + k);
                }
            }
            Arrays.fill(tile, dst + (w.dtype == DType.BF16 ? roundUp(len, GROUP) : len), dst + width, 0f);
        }
        Arrays.fill(tile, n * width, roundUp(n, 4) * width, 0f);
    }

    private static FloatVector even(IntVector pairs) { return pairs.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(); }

    private static FloatVector odd(IntVector pairs) { return pairs.and(0xFFFF0000).reinterpretAsFloats(); }

    /** A BF16 row's last, partial group ({@code count < GROUP} elements from {@code src}) deinterleaved, zero-padded. */
    private static void lastGroup(MemorySegment data, long src, int count, float[] dst, int at) {
        for (int i = 0; i < GROUP; i++) {
            float v = i < count ? DType.bf16ToFloat(data.getAtIndex(Tensor.SHORT_LE, src + i)) : 0f;
            dst[at + i / 2 + (i % 2) * L] = v;
        }
    }

    /**
     * 4 token rows x 4 weight rows over {@code ws} columns (a multiple of L), accumulators at {@code acc[ao + r * as + c
     * * L]}: each weight vector loaded once for 4 token rows and each x vector once for 4 weight rows, 16 FMAs per 8
     * loads; 16 accumulators, the 4 weight vectors and one x vector fit the 32 vector registers (6 x 4, 4 x 6, 5 x 5
     * and 8 x 3 were slower). The accumulators' load and store cost 32 accesses per 16 x ws/L FMAs.
     */
    private static void kernel4x4(float[] w, int wo, int ws, float[] x, int xo, int xs, float[] acc, int ao, int as) {
        FloatVector a00 = load(acc, ao), a01 = load(acc, ao + L), a02 = load(acc, ao + 2 * L), a03 = load(acc, ao + 3 * L),
                a10 = load(acc, ao + as), a11 = load(acc, ao + as + L), a12 = load(acc, ao + as + 2 * L),
                a13 = load(acc, ao + as + 3 * L), a20 = load(acc, ao + 2 * as), a21 = load(acc, ao + 2 * as + L),
                a22 = load(acc, ao + 2 * as + 2 * L), a23 = load(acc, ao + 2 * as + 3 * L), a30 = load(acc, ao + 3 * as),
                a31 = load(acc, ao + 3 * as + L), a32 = load(acc, ao + 3 * as + 2 * L), a33 = load(acc, ao + 3 * as + 3 * L);
        for (int k = 0; k < ws; k += L) {
            FloatVector w0 = load(w, wo + k), w1 = load(w, wo + ws + k), w2 = load(w, wo + 2 * ws + k),
                    w3 = load(w, wo + 3 * ws + k);
            FloatVector v = load(x, xo + k);
            a00 = w0.fma(v, a00); a01 = w1.fma(v, a01); a02 = w2.fma(v, a02); a03 = w3.fma(v, a03);
            v = load(x, xo + xs + k);
            a10 = w0.fma(v, a10); a11 = w1.fma(v, a11); a12 = w2.fma(v, a12); a13 = w3.fma(v, a13);
            v = load(x, xo + 2 * xs + k);
            a20 = w0.fma(v, a20); a21 = w1.fma(v, a21); a22 = w2.fma(v, a22); a23 = w3.fma(v, a23);
            v = load(x, xo + 3 * xs + k);
            a30 = w0.fma(v, a30); a31 = w1.fma(v, a31); a32 = w2.fma(v, a32); a33 = w3.fma(v, a33);
        }
        a00.intoArray(acc, ao); a01.intoArray(acc, ao + L); a02.intoArray(acc, ao + 2 * L); a03.intoArray(acc, ao + 3 * L);
        a10.intoArray(acc, ao + as); a11.intoArray(acc, ao + as + L); a12.intoArray(acc, ao + as + 2 * L);
        a13.intoArray(acc, ao + as + 3 * L);
        a20.intoArray(acc, ao + 2 * as); a21.intoArray(acc, ao + 2 * as + L); a22.intoArray(acc, ao + 2 * as + 2 * L);
        a23.intoArray(acc, ao + 2 * as + 3 * L);
        a30.intoArray(acc, ao + 3 * as); a31.intoArray(acc, ao + 3 * as + L); a32.intoArray(acc, ao + 3 * as + 2 * L);
        a33.intoArray(acc, ao + 3 * as + 3 * L);
    }

    /** One token row against 4 weight rows of the tile: the rows left over after the 4 x 4 kernel. */
    private static void kernel1x4(float[] w, int wo, int ws, float[] x, int xo, float[] acc, int ao) {
        FloatVector a0 = load(acc, ao), a1 = load(acc, ao + L), a2 = load(acc, ao + 2 * L), a3 = load(acc, ao + 3 * L);
        for (int k = 0; k < ws; k += L) {
            FloatVector v = load(x, xo + k);
            a0 = load(w, wo + k).fma(v, a0);
            a1 = load(w, wo + ws + k).fma(v, a1);
            a2 = load(w, wo + 2 * ws + k).fma(v, a2);
            a3 = load(w, wo + 3 * ws + k).fma(v, a3);
        }
        a0.intoArray(acc, ao); a1.intoArray(acc, ao + L); a2.intoArray(acc, ao + 2 * L); a3.intoArray(acc, ao + 3 * L);
    }

    private static FloatVector load(float[] a, int at) { return FloatVector.fromArray(F, a, at); }

    // ------------------------------------------------------------------ gemv (BF16 decode)

    /**
     * Output columns {@code [j0, j0 + 4)} of one target for each row, the weights converted in registers; for rows 2
     * and 3 they come again from L1/L2. Same products in the same order as {@link #block} with {@link #kernel1x4}.
     */
    private void gemvRows(Target t, int j0, float[] x, int xStride, int rows) {
        CpuWeight w = t.weight();
        MemorySegment data = w.data;
        int outDim = w.rows, in = w.cols, n = Math.min(GEMV_ROWS, outDim - j0), whole = in - in % GROUP;
        // past the last weight row, repeat it (its results are not stored): no bounds to check in the loop
        long row0 = (long) j0 * in, row1 = (long) Math.min(j0 + 1, outDim - 1) * in,
                row2 = (long) Math.min(j0 + 2, outDim - 1) * in, row3 = (long) Math.min(j0 + 3, outDim - 1) * in;
        // the tile holds the 4 rows' last, partial group (when in is not a multiple of GROUP), then the accumulators
        float[] tile = tiles.get();
        int acc = 4 * GROUP;
        if (whole < in) {
            lastGroup(data, row0 + whole, in - whole, tile, 0);
            lastGroup(data, row1 + whole, in - whole, tile, GROUP);
            lastGroup(data, row2 + whole, in - whole, tile, 2 * GROUP);
            lastGroup(data, row3 + whole, in - whole, tile, 3 * GROUP);
        }
        for (int r = 0; r < rows; r++) {
            int xo = r * xStride;
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (int k = 0; k < whole; k += GROUP) {
                long at = 2L * k;  // bytes
                IntVector p0 = IntVector.fromMemorySegment(I, data, 2 * row0 + at, LE),
                        p1 = IntVector.fromMemorySegment(I, data, 2 * row1 + at, LE),
                        p2 = IntVector.fromMemorySegment(I, data, 2 * row2 + at, LE),
                        p3 = IntVector.fromMemorySegment(I, data, 2 * row3 + at, LE);
                FloatVector xe = load(x, xo + k), xodd = load(x, xo + k + L);
                a0 = odd(p0).fma(xodd, even(p0).fma(xe, a0));
                a1 = odd(p1).fma(xodd, even(p1).fma(xe, a1));
                a2 = odd(p2).fma(xodd, even(p2).fma(xe, a2));
                a3 = odd(p3).fma(xodd, even(p3).fma(xe, a3));
            }
            if (whole < in) {
                FloatVector xe = load(x, xo + whole), xodd = load(x, xo + whole + L);
                a0 = load(tile, L).fma(xodd, load(tile, 0).fma(xe, a0));
                a1 = load(tile, GROUP + L).fma(xodd, load(tile, GROUP).fma(xe, a1));
                a2 = load(tile, 2 * GROUP + L).fma(xodd, load(tile, 2 * GROUP).fma(xe, a2));
                a3 = load(tile, 3 * GROUP + L).fma(xodd, load(tile, 3 * GROUP).fma(xe, a3));
            }
            a0.intoArray(tile, acc); a1.intoArray(tile, acc + L); a2.intoArray(tile, acc + 2 * L); a3.intoArray(tile, acc + 3 * L);
            for (int c = 0; c < n; c++) finish(t, r * outDim + j0 + c, j0 + c, tile, acc + c * L);
        }
    }

    private static int roundUp(int n, int multiple) { return Math.ceilDiv(n, multiple) * multiple; }
}
