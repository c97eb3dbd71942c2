package io.sn11.engine.backend;

import io.sn11.engine.safetensors.DType;
import io.sn11.engine.safetensors.Tensor;

import java.util.List;
import java.util.Map;

/**
 * The kernels of the forward pass, over storage the backend owns. Activations live in {@link Buffer}s (host
 * arrays for the CPU backend, device memory for a CUDA backend); weights are uploaded once as
 * {@link WeightHandle}s in their stored dtype; per-sequence key/value caches are {@link KvCache}s. Only token
 * ids, positions and small per-position results cross the boundary on each call, so a device backend never has
 * to move activations or full logits to the host (except through {@link #download}).
 *
 * <p>Layout conventions: a matrix of {@code rows x cols} floats is row-major in one buffer. Weight matrices are
 * {@code [out x in]} as in Hugging Face checkpoints; 1-D weights (norms, biases) have {@code rows == 1}.
 */
public interface Backend extends AutoCloseable {

    /** Activation storage: {@code size()} floats. */
    interface Buffer extends AutoCloseable {
        int size();
        @Override void close();
    }

    /** A weight tensor resident in the backend, {@code rows x cols}, stored as {@code dtype}. */
    interface WeightHandle extends AutoCloseable {
        String name();
        DType dtype();
        int rows();
        int cols();
        @Override void close();
    }

    /** Key/value cache of one sequence for every layer: {@code capacity} positions of {@code kvHeads * headDim}. */
    interface KvCache extends AutoCloseable {
        int capacity();
        @Override void close();
    }

    /**
     * Rows {@code [firstRow, firstRow + length)} of a batched activation belong to one sequence whose tokens sit at
     * positions {@code [startPos, startPos + length)}; its keys/values go to (and are read from) {@code cache}.
     */
    record SeqSlice(KvCache cache, int firstRow, int length, int startPos) {}

    /** One weight of a fused multiplication: {@code out = x . weight^T (+ bias)}; {@code bias} may be null. */
    record Projection(WeightHandle weight, WeightHandle bias, Buffer out) {}

    /** Per-position results of the scoring reduction over the top-k logits (see {@link #topKStats}). */
    record TopKStats(float[] targetProb, boolean[] targetInTopK, float[] entropy) {}

    String name();

    /** Settings that affect results or speed (threads, device), for reports. */
    Map<String, Object> settings();

    // ---- storage ----
    Buffer allocate(int floats);
    Buffer upload(float[] data);
    default float[] download(Buffer buffer) { return download(buffer, 0, buffer.size()); }
    /** Floats {@code [offset, offset + floats)} of {@code buffer}: a few rows of a larger one, without the rest. */
    float[] download(Buffer buffer, int offset, int floats);
    WeightHandle upload(Tensor tensor);
    KvCache allocateKvCache(int layers, int kvHeads, int headDim, int capacity);

    /**
     * Fails with {@link DeviceMemoryException} when {@code bytes} more would not fit in the backend's memory (see
     * {@link MemoryEstimate}). The CPU backend works in host memory with weights memory-mapped: nothing to check.
     */
    default void requireMemory(long bytes, String purpose) {}

    /** Waits until every kernel issued so far has finished (a device backend runs asynchronously); for timing. */
    default void synchronize() {}

    // ---- kernels ----

    /** {@code out[r] = table[tokens[r]]}, rows of {@code table.cols()} floats. */
    void embedding(WeightHandle table, int[] tokens, Buffer out);

    /** {@code out[r] = x[r] / sqrt(mean(x[r]^2) + eps) * weight}, for {@code rows} rows of {@code weight.cols()}. */
    void rmsnorm(Buffer x, WeightHandle weight, int rows, float eps, Buffer out);

    /** {@code out[rows x w.rows] = x[rows x w.cols] . w^T (+ bias)}, accumulated in F32. {@code bias} may be null. */
    void matmul(Buffer x, int rows, WeightHandle w, WeightHandle bias, Buffer out);

    /**
     * {@link #matmul} of one x by each projection's weight (all with the same {@code cols}): q/k/v, gate/up. By default
     * one after another; a CPU backend splits all their output rows over its threads at once.
     */
    default void matmul(Buffer x, int rows, List<Projection> projections) {
        for (Projection p : projections) matmul(x, rows, p.weight(), p.bias(), p.out());
    }

    /**
     * Rotary embedding in place on {@code x[rows x heads*headDim]}, rotate-half layout (pairs i, i + headDim/2),
     * angle {@code positions[r] * invFreq[i]}; {@code invFreq} holds {@code headDim/2} floats (see {@link RopeTable}).
     */
    void rope(Buffer x, int rows, int heads, int headDim, int[] positions, Buffer invFreq);

    /**
     * Causal grouped-query attention for a batch of sequences. For each slice, first stores the rows' keys and values
     * ({@code k, v: [rows x kvHeads*headDim]}) in its cache at layer {@code layer}, then for each row at position
     * {@code p} attends over cache positions {@code 0..p}; query head h uses kv head {@code h / (heads / kvHeads)}.
     * {@code out: [rows x heads*headDim]}.
     */
    void attention(int layer, Buffer q, Buffer k, Buffer v, List<SeqSlice> batch, int heads, int kvHeads, int headDim,
                   Buffer out);

    /** {@code gate[i] = silu(gate[i]) * up[i]} for {@code i < n}. */
    void siluMul(Buffer gate, Buffer up, int n);

    /** {@code x[i] += y[i]} for {@code i < n}. */
    void add(Buffer x, Buffer y, int n);

    /** {@code out[i] = src[rows[i]]}, rows of {@code cols} floats. */
    void gatherRows(Buffer src, int cols, int[] rows, Buffer out);

    /**
     * The scoring reduction over {@code logits[rows x vocab]}: per row keep the {@code k} largest logits (ties: lower
     * token id first), softmax over them; report the probability of {@code targets[r]} within that truncated
     * distribution (0 when outside the top k, with the flag false) and its entropy in nats.
     */
    TopKStats topKStats(Buffer logits, int rows, int vocab, int[] targets, int k);

    @Override void close();
}
