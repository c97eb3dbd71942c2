package io.sn11.engine.backend;

import io.sn11.engine.backend.Backend.SeqSlice;
import io.sn11.engine.backend.ScalarBackend.CpuKvCache;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One call of causal grouped-query attention with the Vector API (see {@link Backend#attention}). The work is cut into
 * tasks of (a block of consecutive rows of one sequence, one kv head): a task computes every query head of the kv
 * head's group for every row of its block, so each key and value read from the cache serves all of them.
 *
 * <p>Within a task the query heads lie across the vector lanes ("queries" below: lane {@code i * group + g} is row i,
 * head g of the group). Scores are then outer-product updates, a key element broadcast times a vector of query
 * elements, with no horizontal sum per dot product (a 64-wide dot product would be four multiply-adds and a costly
 * reduction across lanes); the softmax runs down each lane; the outputs are again broadcast value elements times
 * vectors of probabilities. Everything is F32, and the softmax subtracts each query's maximum score first.
 */
final class VectorAttention {
    private static final VectorSpecies<Float> F = VectorOps.F;
    private static final int LANES = F.length();

    /** Query heads per task: two vectors' worth, so that a 128-row prefill still makes plenty of tasks. */
    static final int QUERIES_PER_TASK = 2 * LANES;

    private final int layer, kvHeads, headDim, group, qDim, kvDim;
    private final float scale;
    private final float[] q, out;
    private final List<SeqSlice> batch;
    /** Block b: slice, first row within it, rows; task t covers kv head {@code t % kvHeads} of block {@code t / kvHeads}. */
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
        int rowsPerTask = Math.max(1, QUERIES_PER_TASK / group);
        List<int[]> blocks = new ArrayList<>();
        long longest = 1;
        for (int si = 0; si < batch.size(); si++) {
            SeqSlice s = batch.get(si);
            for (int first = 0; first < s.length(); first += rowsPerTask) {
                blocks.add(new int[] {si, first, Math.min(rowsPerTask, s.length() - first)});
            }
            longest = Math.max(longest, s.startPos() + s.length());
        }
        blockSlice = blocks.stream().mapToInt(b -> b[0]).toArray();
        blockFirst = blocks.stream().mapToInt(b -> b[1]).toArray();
        blockRows = blocks.stream().mapToInt(b -> b[2]).toArray();
        // scores and weighted values: two multiply-adds per query, position and head dimension
        workPerTask = 2L * rowsPerTask * group * longest * headDim;
    }

    int tasks() { return blockSlice.length * kvHeads; }

    long workPerTask() { return workPerTask; }

    /** Lanes of a block of {@code rows}: its query heads rounded up to whole vectors. */
    private int width(int rows) { return (rows * group + LANES - 1) / LANES * LANES; }

    /** Key positions a block attends to: up to its last row's. */
    private int positions(int block) {
        return batch.get(blockSlice[block]).startPos() + blockFirst[block] + blockRows[block];
    }

    /** Floats of scratch task {@code task} needs: queries and outputs {@code [headDim x width]}, scores {@code [positions x width]}. */
    int scratchFloats(int task) {
        int b = task / kvHeads;
        return (2 * headDim + positions(b)) * width(blockRows[b]);
    }

    /** Runs one task; {@code scratch} holds at least {@link #scratchFloats} floats. */
    void run(int task, float[] scratch) {
        int b = task / kvHeads, kvHead = task % kvHeads;
        SeqSlice s = batch.get(blockSlice[b]);
        CpuKvCache cache = (CpuKvCache) s.cache();
        int rows = blockRows[b], firstRow = s.firstRow() + blockFirst[b], firstPos = s.startPos() + blockFirst[b];
        int positions = positions(b), width = width(rows), kvOffset = kvHead * headDim;
        int queries = 0, scores = headDim * width, outputs = scores + positions * width;
        gatherQueries(scratch, queries, width, rows, firstRow, kvHead);
        scores(cache.keys[layer], kvOffset, scratch, queries, scores, width, positions);
        // causal: key t > firstPos is unseen by the block's rows before it, lanes [0, (t - firstPos) * group)
        for (int t = firstPos + 1; t < positions; t++) {
            int from = scores + t * width;
            Arrays.fill(scratch, from, from + (t - firstPos) * group, Float.NEGATIVE_INFINITY);
        }
        softmaxDownLanes(scratch, scores, width, positions);
        weightedValues(cache.values[layer], kvOffset, scratch, scores, outputs, width, positions);
        for (int i = 0; i < rows; i++) {
            for (int g = 0; g < group; g++) {
                int lane = i * group + g, to = (firstRow + i) * qDim + (kvHead * group + g) * headDim;
                for (int d = 0; d < headDim; d++) out[to + d] = scratch[outputs + d * width + lane];
            }
        }
    }

    /** {@code s[at + d * width + lane]}: element d of the lane's query times the score scale; padding lanes 0. */
    private void gatherQueries(float[] s, int at, int width, int rows, int firstRow, int kvHead) {
        Arrays.fill(s, at, at + headDim * width, 0f);
        for (int i = 0; i < rows; i++) {
            for (int g = 0; g < group; g++) {
                int lane = i * group + g, from = (firstRow + i) * qDim + (kvHead * group + g) * headDim;
                for (int d = 0; d < headDim; d++) s[at + d * width + lane] = q[from + d] * scale;
            }
        }
    }

    /**
     * {@code s[scores + t * width + lane] = key t . query of lane} for t < positions. Four keys at a time: four
     * independent accumulators hide the multiply-add latency and share each load of query elements.
     */
    private void scores(float[] keys, int kvOffset, float[] s, int queries, int scores, int width, int positions) {
        for (int j = 0; j < width; j += LANES) {
            int t = 0;
            for (; t + 3 < positions; t += 4) {
                int k0 = t * kvDim + kvOffset, k1 = k0 + kvDim, k2 = k1 + kvDim, k3 = k2 + kvDim;
                FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
                for (int d = 0; d < headDim; d++) {
                    FloatVector query = FloatVector.fromArray(F, s, queries + d * width + j);
                    a0 = FloatVector.broadcast(F, keys[k0 + d]).fma(query, a0);
                    a1 = FloatVector.broadcast(F, keys[k1 + d]).fma(query, a1);
                    a2 = FloatVector.broadcast(F, keys[k2 + d]).fma(query, a2);
                    a3 = FloatVector.broadcast(F, keys[k3 + d]).fma(query, a3);
                }
                a0.intoArray(s, scores + t * width + j);
                a1.intoArray(s, scores + (t + 1) * width + j);
                a2.intoArray(s, scores + (t + 2) * width + j);
                a3.intoArray(s, scores + (t + 3) * width + j);
            }
            for (; t < positions; t++) {
                int k0 = t * kvDim + kvOffset;
                FloatVector a0 = FloatVector.zero(F);
                for (int d = 0; d < headDim; d++) {
                    a0 = FloatVector.broadcast(F, keys[k0 + d]).fma(FloatVector.fromArray(F, s, queries + d * width + j), a0);
                }
                a0.intoArray(s, scores + t * width + j);
            }
        }
    }

    /** Each lane's scores over positions become probabilities: {@code exp(score - max) / sum}. */
    private static void softmaxDownLanes(float[] s, int scores, int width, int positions) {
        for (int j = 0; j < width; j += LANES) {
            FloatVector max = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            for (int t = 0; t < positions; t++) max = max.max(FloatVector.fromArray(F, s, scores + t * width + j));
            FloatVector sum = FloatVector.zero(F);
            for (int t = 0; t < positions; t++) {
                int at = scores + t * width + j;
                FloatVector e = FloatVector.fromArray(F, s, at).sub(max).lanewise(VectorOperators.EXP);
                e.intoArray(s, at);
                sum = sum.add(e);
            }
            FloatVector inverse = FloatVector.broadcast(F, 1f).div(sum);
            for (int t = 0; t < positions; t++) {
                int at = scores + t * width + j;
                FloatVector.fromArray(F, s, at).mul(inverse).intoArray(s, at);
            }
        }
    }

    /**
     * {@code s[outputs + d * width + lane] = sum over t of probability(t, lane) * value t [d]}. Four dimensions at a
     * time: four independent accumulators, and each vector of probabilities is loaded once for the four.
     */
    private void weightedValues(float[] values, int kvOffset, float[] s, int scores, int outputs, int width, int positions) {
        for (int j = 0; j < width; j += LANES) {
            int d = 0;
            for (; d + 3 < headDim; d += 4) {
                FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
                for (int t = 0; t < positions; t++) {
                    FloatVector p = FloatVector.fromArray(F, s, scores + t * width + j);
                    int v = t * kvDim + kvOffset + d;
                    a0 = FloatVector.broadcast(F, values[v]).fma(p, a0);
                    a1 = FloatVector.broadcast(F, values[v + 1]).fma(p, a1);
                    a2 = FloatVector.broadcast(F, values[v + 2]).fma(p, a2);
                    a3 = FloatVector.broadcast(F, values[v + 3]).fma(p, a3);
                }
                a0.intoArray(s, outputs + d * width + j);
                a1.intoArray(s, outputs + (d + 1) * width + j);
                a2.intoArray(s, outputs + (d + 2) * width + j);
                a3.intoArray(s, outputs + (d + 3) * width + j);
            }
            for (; d < headDim; d++) {
                FloatVector a0 = FloatVector.zero(F);
                for (int t = 0; t < positions; t++) {
                    a0 = FloatVector.broadcast(F, values[t * kvDim + kvOffset + d]).fma(FloatVector.fromArray(F, s, scores + t * width + j), a0);
                }
                a0.intoArray(s, outputs + d * width + j);
            }
        }
    }
}
