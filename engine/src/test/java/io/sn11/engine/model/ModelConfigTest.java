package io.sn11.engine.model;

import io.sn11.engine.safetensors.DType;
import io.sn11.engine.safetensors.SafetensorsWriter;
import io.sn11.engine.tiny.TinyModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ModelConfigTest {
    @TempDir Path dir;

    private ModelConfig read(String json) throws IOException {
        Files.writeString(dir.resolve("config.json"), json);
        return ModelConfig.read(dir);
    }

    @Test
    void defaultsAndLists() throws IOException {
        ModelConfig c = read("{\"architectures\":[\"MistralForCausalLM\"],\"hidden_size\":64,\"intermediate_size\":128,"
                + "\"num_hidden_layers\":2,\"num_attention_heads\":4,\"vocab_size\":100,\"eos_token_id\":[5,6],\"bos_token_id\":1}");
        assertEquals(4, c.numKvHeads());
        assertEquals(16, c.headDim());
        assertEquals(10000.0, c.ropeTheta());
        assertNull(c.ropeScaling());
        assertFalse(c.attentionBias());
        assertFalse(c.tieWordEmbeddings());
        assertEquals(List.of(5, 6), c.eosTokenIds());
        assertEquals(List.of(1), c.bosTokenIds());
        assertEquals(0, c.slidingWindow());
    }

    @Test
    void slidingWindowOnlyWhereTheFamilyUsesIt() throws IOException {
        String base = "\"hidden_size\":64,\"intermediate_size\":128,\"num_hidden_layers\":2,\"num_attention_heads\":4,"
                + "\"vocab_size\":100,\"sliding_window\":4096";
        assertEquals(4096, read("{\"architectures\":[\"MistralForCausalLM\"]," + base + "}").slidingWindow());
        assertEquals(0, read("{\"architectures\":[\"Qwen2ForCausalLM\"]," + base + ",\"use_sliding_window\":false}").slidingWindow());
        assertEquals(4096, read("{\"architectures\":[\"Qwen2ForCausalLM\"]," + base + ",\"use_sliding_window\":true}").slidingWindow());
    }

    @Test
    void qwenAlwaysBiasedLlamaByFlagAndRopeScaling() throws IOException {
        String base = "\"hidden_size\":64,\"intermediate_size\":128,\"num_hidden_layers\":2,\"num_attention_heads\":4,"
                + "\"num_key_value_heads\":2,\"vocab_size\":100";
        assertTrue(read("{\"architectures\":[\"Qwen2ForCausalLM\"]," + base + "}").attentionBias());
        assertFalse(read("{\"architectures\":[\"LlamaForCausalLM\"]," + base + "}").attentionBias());
        ModelConfig c = read("{\"architectures\":[\"LlamaForCausalLM\"]," + base + ",\"attention_bias\":true,"
                + "\"rope_scaling\":{\"rope_type\":\"llama3\",\"factor\":32.0,\"low_freq_factor\":1.0,\"high_freq_factor\":4.0,"
                + "\"original_max_position_embeddings\":8192},\"rope_theta\":500000.0}");
        assertTrue(c.attentionBias());
        assertEquals(new RopeScaling(32, 1, 4, 8192), c.ropeScaling());
        assertEquals(500000.0, c.ropeTheta());
        ModelException e = assertThrows(ModelException.class, () -> read("{\"architectures\":[\"LlamaForCausalLM\"]," + base
                + ",\"rope_scaling\":{\"type\":\"yarn\",\"factor\":4}}"));
        assertTrue(e.getMessage().contains("yarn"));
    }

    @Test
    void unsupportedArchitectureNamed() {
        ModelException e = assertThrows(ModelException.class, () -> read("{\"architectures\":[\"GPT2LMHeadModel\"]}"));
        assertTrue(e.getMessage().contains("unsupported architecture GPT2LMHeadModel"), e.getMessage());
        assertTrue(e.getMessage().contains("LlamaForCausalLM"));
        assertThrows(ModelException.class, () -> read("{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":-1}"));
        assertThrows(ModelException.class, () -> read("not json"));
    }

    /** The config: 4 x (2^30 + 16) wraps around to 64 in int arithmetic and matched 64-wide weights. */
    @Test
    void headDimensionsWhoseProductOverflowsAreRefusedWithTheFieldsNamed() {
        String base = "\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":64,\"intermediate_size\":128,"
                + "\"num_hidden_layers\":2,\"vocab_size\":100,\"head_dim\":" + ((1 << 30) + 16);
        ModelException wrapsToSmall = assertThrows(ModelException.class, () -> read("{" + base + ",\"num_attention_heads\":4}"));
        assertTrue(wrapsToSmall.getMessage().contains("num_attention_heads 4 x head_dim 1073741840 = 4294967360"), wrapsToSmall.getMessage());
        ModelException wrapsNegative = assertThrows(ModelException.class, () -> read("{" + base + ",\"num_attention_heads\":2}"));
        assertTrue(wrapsNegative.getMessage().contains("num_attention_heads 2 x head_dim 1073741840 = 2147483680"), wrapsNegative.getMessage());
    }

    @Test
    void weightShapesCheckedAgainstConfig() throws IOException {
        Path m = dir.resolve("m");
        TinyModels.write(m, TinyModels.Arch.QWEN2, DType.F32, 1);
        ModelConfig c = ModelConfig.read(m);
        try (ModelWeights w = ModelWeights.load(m, c)) {
            assertNotNull(w.layers().get(1).bq());
            assertNotSame(w.embedding(), w.lmHead());
        }
        // rewrite with one mis-shaped tensor and one missing bias
        SafetensorsWriter sw = new SafetensorsWriter();
        sw.add("model.embed_tokens.weight", DType.F32, new long[] {c.vocabSize(), c.hiddenSize() + 1},
                new float[c.vocabSize() * (c.hiddenSize() + 1)]);
        sw.write(m.resolve("model.safetensors"));
        ModelException e = assertThrows(ModelException.class, () -> ModelWeights.load(m, c));
        assertTrue(e.getMessage().contains("model.embed_tokens.weight has shape [" + c.vocabSize() + ", 65]"), e.getMessage());
        assertTrue(e.getMessage().contains("expects [" + c.vocabSize() + ", 64]"), e.getMessage());
        sw = new SafetensorsWriter();
        sw.add("model.embed_tokens.weight", DType.F32, new long[] {c.vocabSize(), 64}, new float[c.vocabSize() * 64]);
        sw.write(m.resolve("model.safetensors"));
        e = assertThrows(ModelException.class, () -> ModelWeights.load(m, c));
        assertTrue(e.getMessage().contains("missing tensor model.layers.0.input_layernorm.weight"), e.getMessage());
    }
}
