package io.sn11.engine.backend;

import io.sn11.engine.model.ModelConfig;
import io.sn11.engine.model.ModelSizes;

/**
 * Device memory a model needs beyond its weights, checked before the weights are uploaded so that a model that cannot
 * run fails at once with both numbers instead of part-way through an evaluation. Every activation and cache is F32.
 */
public final class MemoryEstimate {
    private MemoryEstimate() {}

    /** Tokens in flight in one forward pass that a loaded model must leave room for: a batch of 4 x 1024-token samples. */
    public static final int DEFAULT_WORKING_TOKENS = 4096;

    /** Context, modules and allocator slack. */
    public static final long RESERVE_BYTES = 512L << 20;

    /** Weights plus the working set of {@code tokens} tokens: kv caches, activations, one chunk of logits. */
    public static long forModel(ModelConfig c, long weightBytes, int tokens) {
        long workingFloats = ModelSizes.sum(ModelSizes.kvCacheFloats(c, tokens), ModelSizes.activationFloats(c, tokens), ModelSizes.logitsFloats(c, tokens));
        return ModelSizes.sum(weightBytes, ModelSizes.product(ModelSizes.FLOAT_BYTES, workingFloats), RESERVE_BYTES);
    }
}
