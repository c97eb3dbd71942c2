package io.sn11.engine.model;

/**
 * Every size a model config implies, in one place and in exact arithmetic: a product or sum beyond 64 bits throws
 * {@link ArithmeticException} instead of wrapping around to a small, plausible number. Caches and activations are F32.
 */
public final class ModelSizes {
    private ModelSizes() {}

    public static final int FLOAT_BYTES = 4;

    /** Rows of logits materialised at once by the scoring reduction. */
    public static final int LOGITS_ROWS = 1024;

    /** Weights the config implies: every tensor's elements, lm_head only when the embeddings are not tied. */
    public static long parameters(ModelConfig c) {
        long h = c.hiddenSize(), q = c.qDim(), kv = c.kvDim();
        long perLayer = sum(product(h, q), product(2, h, kv), product(q, h), product(3, h, c.intermediateSize()), product(2, h));
        if (c.attentionBias()) perLayer = sum(perLayer, q, product(2, kv));
        long embeddings = product(c.vocabSize(), h);
        return sum(product(perLayer, c.numLayers()), embeddings, h, c.tieWordEmbeddings() ? 0 : embeddings);
    }

    /** Keys and values of {@code sequences} sequences of {@code tokens} positions (capped at the model's context). */
    public static long kvCacheBytes(ModelConfig c, long tokens, long sequences) {
        return product(FLOAT_BYTES, kvCacheFloats(c, product(contextTokens(c, tokens), sequences)));
    }

    /** Keys and values of {@code tokens} positions in every layer. */
    public static long kvCacheFloats(ModelConfig c, long tokens) {
        return product(2, c.numLayers(), c.kvDim(), tokens);
    }

    /** Activations of one forward pass over {@code rows} tokens: residual, norms, q/k/v, attention output, MLP. */
    public static long activationFloats(ModelConfig c, long rows) {
        return product(rows, sum(product(3, c.hiddenSize()), product(2, c.qDim()), product(2, c.kvDim()), product(2, c.intermediateSize())));
    }

    /** The chunk of logits the scoring reduction holds for {@code rows} tokens. */
    public static long logitsFloats(ModelConfig c, long rows) {
        return product(Math.min(rows, LOGITS_ROWS), c.vocabSize());
    }

    /**
     * The largest single buffer of a forward pass over {@code sequences} sequences of {@code tokens} positions: one
     * activation matrix, the logits chunk, or one layer's cache of a sequence. Java arrays and the backends index
     * buffers with an int.
     */
    public static long largestBufferFloats(ModelConfig c, long tokens, long sequences) {
        long perSequence = contextTokens(c, tokens);
        long rows = product(perSequence, sequences);
        long widest = Math.max(Math.max(c.hiddenSize(), c.qDim()), Math.max(c.kvDim(), c.intermediateSize()));
        return Math.max(Math.max(product(rows, widest), logitsFloats(c, rows)), product(perSequence, c.kvDim()));
    }

    /** Activations and logits of {@code sequences} sequences of {@code tokens} positions in one pass, in bytes. */
    public static long activationBytes(ModelConfig c, long tokens, long sequences) {
        long rows = product(contextTokens(c, tokens), sequences);
        return product(FLOAT_BYTES, sum(activationFloats(c, rows), logitsFloats(c, rows)));
    }

    /** A sequence never holds more positions than the model's context. */
    private static long contextTokens(ModelConfig c, long tokens) {
        return Math.min(tokens, c.maxPositionEmbeddings());
    }

    /** The exact product; {@link ArithmeticException} beyond 64 bits. */
    public static long product(long... factors) {
        long p = 1;
        for (long f : factors) p = Math.multiplyExact(p, f);
        return p;
    }

    /** The exact sum; {@link ArithmeticException} beyond 64 bits. */
    public static long sum(long... terms) {
        long s = 0;
        for (long t : terms) s = Math.addExact(s, t);
        return s;
    }
}
