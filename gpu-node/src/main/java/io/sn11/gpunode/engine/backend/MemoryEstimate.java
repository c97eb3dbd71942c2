package io.sn11.gpunode.engine.backend;

import io.sn11.gpunode.engine.model.ModelConfig;

/**
 * Device memory a model needs beyond its weights, checked before the weights are uploaded so that a model that cannot
 * run fails at once with both numbers instead of part-way through an evaluation. Every activation and cache is F32.
 */
public final class MemoryEstimate {
    private MemoryEstimate() {}

    /** Tokens in flight in one forward pass that a loaded model must leave room for: a batch of 4 x 1024-token samples. */
    public static final int DEFAULT_WORKING_TOKENS = 4096;

    /** Rows of logits materialised at once by the scoring reduction. */
    public static final int LOGITS_ROWS = 1024;

    /** Context, modules and allocator slack. */
    public static final long RESERVE_BYTES = 512L << 20;

    /** Weights plus the working set of {@code tokens} tokens: kv caches, activations, one chunk of logits. */
    public static long forModel(ModelConfig c, long weightBytes, int tokens) {
        long kvCache = 2L * c.numLayers() * c.kvDim() * tokens;
        long activations = (long) tokens * (3L * c.hiddenSize() + 2L * c.qDim() + 2L * c.kvDim() + 2L * c.intermediateSize());
        long logits = (long) Math.min(tokens, LOGITS_ROWS) * c.vocabSize();
        return weightBytes + 4L * (kvCache + activations + logits) + RESERVE_BYTES;
    }
}
