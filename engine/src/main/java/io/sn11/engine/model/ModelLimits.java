package io.sn11.engine.model;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * What one model may ask of the engine, checked against the sizes its config implies ({@link ModelSizes}, exact
 * arithmetic) before anything of it is allocated. A config beyond a limit, or whose sizes do not fit 64 bits, is the
 * model's problem: the reasons name the {@code config.json} fields.
 *
 * @param maxParameters      weights the config implies
 * @param maxVocabSize       {@code vocab_size}
 * @param maxKvCacheBytes    F32 keys and values of the sequences an evaluation holds at once
 * @param maxActivationBytes F32 activations and logits of one forward pass over those sequences
 */
public record ModelLimits(long maxParameters, int maxVocabSize, long maxKvCacheBytes, long maxActivationBytes) {

    /** Java arrays and the backends' buffers are indexed with an int. */
    private static final long MAX_BUFFER_FLOATS = Integer.MAX_VALUE - 8;

    public ModelLimits {
        if (maxParameters <= 0 || maxVocabSize <= 0 || maxKvCacheBytes <= 0 || maxActivationBytes <= 0) {
            throw new IllegalArgumentException("model limits must be positive: " + this);
        }
    }

    /**
     * Every limit {@code c} exceeds when an evaluation runs {@code sequences} sequences of up to {@code tokens}
     * positions at once; empty when it fits.
     */
    public List<String> problemsWith(ModelConfig c, int tokens, int sequences) {
        List<String> problems = new ArrayList<>();
        String layers = "num_hidden_layers " + c.numLayers(), hidden = "hidden_size " + c.hiddenSize();
        String heads = "num_attention_heads " + c.numHeads() + " x head_dim " + c.headDim();
        String kvHeads = "num_key_value_heads " + c.numKvHeads() + " x head_dim " + c.headDim();
        String workload = sequences + " sequences of " + tokens + " tokens";
        check(problems, () -> ModelSizes.parameters(c), maxParameters, " parameters",
                layers + ", " + hidden + ", intermediate_size " + c.intermediateSize() + ", " + heads + " and vocab_size " + c.vocabSize() + " imply");
        if (c.vocabSize() > maxVocabSize) problems.add("vocab_size " + c.vocabSize() + " is above the limit of " + maxVocabSize);
        check(problems, () -> ModelSizes.kvCacheBytes(c, tokens, sequences), maxKvCacheBytes, " bytes",
                "the key/value cache of " + workload + " (" + layers + ", " + kvHeads + ") takes");
        check(problems, () -> ModelSizes.activationBytes(c, tokens, sequences), maxActivationBytes, " bytes",
                "the activations of " + workload + " (" + hidden + ", intermediate_size " + c.intermediateSize() + ", " + heads + ") take");
        check(problems, () -> ModelSizes.largestBufferFloats(c, tokens, sequences), MAX_BUFFER_FLOATS, " floats",
                "one buffer of a forward pass over " + workload + " (" + hidden + ", intermediate_size " + c.intermediateSize()
                        + ", " + heads + ", vocab_size " + c.vocabSize() + ") holds");
        return List.copyOf(problems);
    }

    private static void check(List<String> problems, LongSupplier size, long limit, String unit, String what) {
        try {
            long value = size.getAsLong();
            if (value > limit) problems.add(what + " " + value + unit + ", above the limit of " + limit);
        } catch (ArithmeticException overflow) {
            problems.add(what + " a number of" + unit + " beyond 64-bit arithmetic, above the limit of " + limit);
        }
    }
}
