package io.sn11.engine.backend;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sn11.engine.model.ModelConfig;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class MemoryEstimateTest {
    static ModelConfig llama3_8b() throws Exception {
        String json = """
                {"architectures":["LlamaForCausalLM"],"hidden_size":4096,"intermediate_size":14336,"num_hidden_layers":32,
                 "num_attention_heads":32,"num_key_value_heads":8,"vocab_size":128256,"rms_norm_eps":1e-5,
                 "rope_theta":500000.0,"max_position_embeddings":8192,"tie_word_embeddings":false}""";
        return ModelConfig.parse(new ObjectMapper().readTree(json), "test");
    }

    @Test
    void llama3_8bWithA4096TokenWorkingSet() throws Exception {
        ModelConfig c = llama3_8b();
        long weights = 16_060_522_496L;  // 8.03 B parameters in bf16
        long est = MemoryEstimate.forModel(c, weights, 4096);
        long kv = 4L * 2 * 32 * 1024 * 4096;                                    // 1 GiB of f32 keys and values
        long act = 4L * 4096 * (3 * 4096 + 2 * 4096 + 2 * 1024 + 2 * 14336);   // activations of 4096 rows
        long logits = 4L * 1024 * 128256;                                        // one chunk of logits
        assertEquals(weights + kv + act + logits + MemoryEstimate.RESERVE_BYTES, est);
        // more tokens in flight need more, the weights dominate
        assertTrue(MemoryEstimate.forModel(c, weights, 8192) > est);
        assertTrue(est < weights * 1.25);
    }

    @Test
    void shortageGivesBothNumbers() {
        DeviceMemoryException e = new DeviceMemoryException("model LlamaForCausalLM", "CUDA device 0 (H200)",
                20L << 30, 10L << 30, 141L << 30);
        assertEquals(20L << 30, e.requiredBytes());
        assertEquals(10L << 30, e.freeBytes());
        assertTrue(e.getMessage().contains("21,474,836,480 bytes (20.00 GiB)"), e.getMessage());
        assertTrue(e.getMessage().contains("10,737,418,240 bytes (10.00 GiB) of 141.00 GiB are free"), e.getMessage());
    }

    @Test
    void theScalarBackendHasNothingToCheck() {
        try (ScalarBackend be = new ScalarBackend(1)) {
            assertDoesNotThrow(() -> be.requireMemory(Long.MAX_VALUE, "anything"));
        }
    }
}
