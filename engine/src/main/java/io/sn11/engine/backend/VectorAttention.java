package io.sn11.engine.backend;

import io.sn11.engine.backend.Backend.SeqSlice;
import io.sn11.engine.backend.ScalarBackend.CpuKvCache;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.ArrayList;
import java.util.List;

/**
 * One call of causal grouped-query attention with the Vector API (see {@link Backend#attention}). The work is cut into
 * tasks of (a block of up to {@link #ROWS_PER_TASK} consecutive rows of one sequence, one kv head): a task computes
 * every query head of the kv head's group for every row of its block, so each key and value row read from the cache
 * serves {@code rows x group} query heads while it sits in L1. Per task: scores {@code q . k * scale} (vector dot
 * products over the head dimension), a softmax with max subtraction (vector exp), then the probability-weighted sum of
 * value rows (vector multiply-adds over the head dimension). F32 throughout.
 */
final class VectorAttention {
    private static final VectorSpecies<Float> F = VectorOps.F;

    /**
     * Rows of one sequence per task: they share every key/value read, and their scores ({@code rows x group x
     * positions} floats, 128 KiB at 1024 positions and group 4) stay within L2.
     */
    static final int ROWS_PER_TASK = 8;

    private final int layer, kvHeads, headDim, group, qDim, kvDim;
    private final float scale;
    private final float[] q, out;
    private final List<SeqSlice> batch;
    /** Task t covers kv head {@code t % kvHeads} of block {@code t / kvHeads}: slice, first row within it, rows. */
    private final int[] blockSlice, blockFirst, blockRows;
    private final long workPerTask;

    VectorAttention(int layer, float[] q, List<SeqSlice> batch, int heads, int kvHeads, int headDim, float[] out) {
        if (heads % kvHeads != 0) throw new IllegalArgumentException(heads + " heads not a multiple of " + kvHeads);
        this.layer = layer;
        this.q = q;
        this.out = out;
        this.batch = batch;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.group = heads / kvHeads;
        this.qDim = heads * headDim;
        this.kvDim = kvHeads * headDim;
        this.scale = (float) (1.0 / Math.sqrt(headDim));
        List<int[]> blocks = new ArrayList<>();
        long longest = 1;
        for (int si = 0; si < batch.size(); si++) {
            SeqSlice s = batch.get(si);
            for (int first = 0; first < s.length(); first += ROWS_PER_TASK) {
                blocks.add(new int[] {si, first, Math.min(ROWS_PER_TASK, s.length() - first)});
            }
            longest = Math.max(longest, s.startPos() + s.length());
        }
        blockSlice = blocks.stream().mapToInt(b -> b[0]).toArray();
        blockFirst = blocks.stream().mapToInt(b -> b[1]).toArray();
        blockRows = blocks.stream().mapToInt(b -> b[2]).toArray();
        // two passes (scores, weighted values) over up to `longest` positions for each query head of the task
        workPerTask = 2L * ROWS_PER_TASK * group * longest * headDim;
    }

    int tasks() { return blockSlice.length * kvHeads; }

    long workPerTask() { return workPerTask; }

    /** Floats of score scratch task {@code task} needs. */
    int scratchFloats(int task) {
        int b = task / kvHeads;
        SeqSlice s = batch.get(blockSlice[b]);
        return blockRows[b] * group * (s.startPos() + blockFirst[b] + blockRows[b]);
    }

    /** Runs one task; {@code scores} holds at least {@link #scratchFloats} floats. */
    void run(int task, float[] scores) {
        int b = task / kvHeads, kvHead = task % kvHeads;
        SeqSlice s = batch.get(blockSlice[b]);
        CpuKvCache cache = (CpuKvCache) s.cache();
        float[] keys = cache.keys[layer], values = cache.values[layer];
        int rows = blockRows[b], firstRow = s.firstRow() + blockFirst[b];
        int firstPos = s.startPos() + blockFirst[b];
        int positions = firstPos + rows;       // the block's last row attends to positions [0, positions)
        int kvOffset = kvHead * headDim, firstHead = kvHead * group;
        // scores[(i * group + g) * positions + t]: row i, query head g of the group, key position t
        for (int t = 0; t < positions; t++) {
            int keyOffset = t * kvDim + kvOffset;
            for (int i = Math.max(0, t - firstPos); i < rows; i++) {  // rows at positions >= t see key t
                for (int g = 0; g < group; g++) {
                    int qOffset = (firstRow + i) * qDim + (firstHead + g) * headDim;
                    scores[(i * group + g) * positions + t] = dot(q, qOffset, keys, keyOffset, headDim) * scale;
                }
            }
        }
        for (int i = 0; i < rows; i++) {
            for (int g = 0; g < group; g++) softmax(scores, (i * group + g) * positions, firstPos + i + 1);
            for (int g = 0; g < group; g++) {
                int oOffset = (firstRow + i) * qDim + (firstHead + g) * headDim;
                java.util.Arrays.fill(out, oOffset, oOffset + headDim, 0f);
            }
        }
        for (int t = 0; t < positions; t++) {
            int valueOffset = t * kvDim + kvOffset;
            for (int i = Math.max(0, t - firstPos); i < rows; i++) {
                for (int g = 0; g < group; g++) {
                    int oOffset = (firstRow + i) * qDim + (firstHead + g) * headDim;
                    addScaled(scores[(i * group + g) * positions + t], values, valueOffset, out, oOffset, headDim);
                }
            }
        }
    }

    /** {@code a[ao..ao+n) . b[bo..bo+n)}. */
    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            acc = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) sum += a[ao + i] * b[bo + i];
        return sum;
    }

    /** {@code y[yo..yo+n) += p * x[xo..xo+n)}. */
    static void addScaled(float p, float[] x, int xo, float[] y, int yo, int n) {
        FloatVector pv = FloatVector.broadcast(F, p);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            FloatVector.fromArray(F, x, xo + i).fma(pv, FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) y[yo + i] += p * x[xo + i];
    }

    /** In place over {@code s[from..from+n)}: probabilities {@code exp(s - max) / sum}. */
    static void softmax(float[] s, int from, int n) {
        int bound = F.loopBound(n);
        FloatVector maxes = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i < bound; i += F.length()) maxes = maxes.max(FloatVector.fromArray(F, s, from + i));
        float max = maxes.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) max = Math.max(max, s[from + i]);
        FloatVector sums = FloatVector.zero(F);
        for (i = 0; i < bound; i += F.length()) {
            FloatVector e = FloatVector.fromArray(F, s, from + i).sub(max).lanewise(VectorOperators.EXP);
            e.intoArray(s, from + i);
            sums = sums.add(e);
        }
        float sum = sums.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            s[from + i] = (float) Math.exp(s[from + i] - max);
            sum += s[from + i];
        }
        float inverse = 1f / sum;
        for (i = 0; i < bound; i += F.length()) FloatVector.fromArray(F, s, from + i).mul(inverse).intoArray(s, from + i);
        for (; i < n; i++) s[from + i] *= inverse;
    }
}
