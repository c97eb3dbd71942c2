package io.sn11.engine.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The sizes a config implies, in exact arithmetic, against the limits of one evaluation. */
class ModelLimitsTest {
    /** 2048-token sequences, 8 at once: the defaults of evaluation.max-tokens and judge.generation.batch-size. */
    private static final int TOKENS = 2048, SEQUENCES = 8;

    /** The defaults of sn11.gpu-node.limits (reference.conf). */
    static final ModelLimits DEFAULTS = new ModelLimits(40_000_000_000L, 262_144, 16L << 30, 16L << 30);

    private static ModelConfig config(long hidden, long intermediate, long layers, long vocab) throws Exception {
        String json = """
                {"architectures":["LlamaForCausalLM"],"hidden_size":%d,"intermediate_size":%d,"num_hidden_layers":%d,
                 "num_attention_heads":32,"num_key_value_heads":8,"head_dim":128,"vocab_size":%d,
                 "max_position_embeddings":131072}""".formatted(hidden, intermediate, layers, vocab);
        return ModelConfig.parse(new ObjectMapper().readTree(json), "config.json");
    }

    private static ModelConfig llama3_8b() throws Exception {
        return config(4096, 14336, 32, 128256);
    }

    private static void assertOneProblemNaming(List<String> problems, String... words) {
        assertEquals(1, problems.size(), problems::toString);
        for (String word : words) assertTrue(problems.get(0).contains(word), () -> "'" + word + "' in " + problems);
    }

    @Test
    void llama3_8bFitsTheDefaultsWithItsExactSizes() throws Exception {
        ModelConfig c = llama3_8b();
        assertEquals(8_030_261_248L, ModelSizes.parameters(c), "Llama-3.1-8B's published parameter count");
        assertEquals(4L * 2 * 32 * 1024 * TOKENS * SEQUENCES, ModelSizes.kvCacheBytes(c, TOKENS, SEQUENCES), "4 GiB of f32 keys and values");
        assertEquals(List.of(), DEFAULTS.problemsWith(c, TOKENS, SEQUENCES));
    }

    @Test
    void aModelAboveEachLimitIsRefusedNamingTheFields() throws Exception {
        ModelConfig c = llama3_8b();
        ModelLimits d = DEFAULTS;
        assertOneProblemNaming(new ModelLimits(8_000_000_000L, d.maxVocabSize(), d.maxKvCacheBytes(), d.maxActivationBytes())
                .problemsWith(c, TOKENS, SEQUENCES), "8030261248 parameters", "limit of 8000000000");
        assertOneProblemNaming(new ModelLimits(d.maxParameters(), 128_000, d.maxKvCacheBytes(), d.maxActivationBytes())
                .problemsWith(c, TOKENS, SEQUENCES), "vocab_size 128256", "limit of 128000");
        assertOneProblemNaming(new ModelLimits(d.maxParameters(), d.maxVocabSize(), 1L << 30, d.maxActivationBytes())
                .problemsWith(c, TOKENS, SEQUENCES), "4294967296 bytes", "num_hidden_layers 32", "num_key_value_heads 8", "head_dim 128");
        assertOneProblemNaming(new ModelLimits(d.maxParameters(), d.maxVocabSize(), d.maxKvCacheBytes(), 1L << 30)
                .problemsWith(c, TOKENS, SEQUENCES), "activations", "intermediate_size 14336");
    }

    @Test
    void theWorkloadIsCappedAtTheModelsOwnContextLength() throws Exception {
        String json = """
                {"architectures":["LlamaForCausalLM"],"hidden_size":4096,"intermediate_size":14336,"num_hidden_layers":32,
                 "num_attention_heads":32,"num_key_value_heads":8,"vocab_size":128256,"max_position_embeddings":1024}""";
        ModelConfig shortContext = ModelConfig.parse(new ObjectMapper().readTree(json), "config.json");
        assertEquals(ModelSizes.kvCacheBytes(shortContext, 1024, SEQUENCES), ModelSizes.kvCacheBytes(shortContext, TOKENS, SEQUENCES));
    }

    @Test
    void sizesBeyondSixtyFourBitsAreAProblemNotAWrapAround() throws Exception {
        ModelConfig c = config(Integer.MAX_VALUE - 1, Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE);
        List<String> problems = DEFAULTS.problemsWith(c, TOKENS, SEQUENCES);
        assertTrue(problems.stream().anyMatch(p -> p.contains("parameters") && p.contains("beyond 64-bit")), problems::toString);
        assertTrue(problems.stream().anyMatch(p -> p.contains("vocab_size 2147483647")), problems::toString);
    }

    @Test
    void aBufferLargerThanTheEngineCanIndexIsRefusedEvenWithinTheByteLimits() throws Exception {
        // 25.8 billion parameters in one wide layer: within the parameter limit, but one row block of the MLP holds 2^41 floats
        ModelConfig wide = config(64, 1 << 27, 1, 512);
        ModelLimits unlimitedBytes = new ModelLimits(DEFAULTS.maxParameters(), DEFAULTS.maxVocabSize(), Long.MAX_VALUE, Long.MAX_VALUE);
        assertOneProblemNaming(unlimitedBytes.problemsWith(wide, TOKENS, SEQUENCES), "2199023255552 floats", "intermediate_size 134217728");
    }
}
