package io.sn11.engine.tiny;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sn11.engine.safetensors.DType;
import io.sn11.engine.safetensors.SafetensorsWriter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Random-weight model folders (config.json, model.safetensors, tokenizer.json) for tests and benches. The tiny
 * shape runs in milliseconds; the 1B and 8B shapes have Llama-3.2-1B's and Llama-3.1-8B's dimensions (about 2.5 GB
 * and 16 GB in BF16) and are written streaming.
 */
public final class TinyModels {
    private TinyModels() {}

    public enum Arch {
        LLAMA("LlamaForCausalLM", "llama"), MISTRAL("MistralForCausalLM", "mistral"), QWEN2("Qwen2ForCausalLM", "qwen2");
        final String hfName, modelType;
        Arch(String hfName, String modelType) { this.hfName = hfName; this.modelType = modelType; }
        public static Arch parse(String s) {
            try {
                return valueOf(s.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown arch '" + s + "'; known: llama, mistral, qwen2");
            }
        }
    }

    /**
     * Model dimensions (make-tiny-model writes the 1b and 8b shapes as Llama models). {@code vocab} 0 means the tiny
     * tokenizer's vocabulary; {@code llamaTied}: a Llama of this shape ties its embeddings.
     */
    public record Shape(int hidden, int intermediate, int layers, int heads, int kvHeads, int vocab, boolean llamaTied,
                        double ropeFactor, int ropeOriginalMaxPositions, int maxPositions, double embeddingStd) {
        /** hidden 64, 2 layers, 4 heads, 2 kv heads, the tiny tokenizer's vocabulary. */
        public static final Shape TINY = new Shape(64, 128, 2, 4, 2, 0, true, 8.0, 64, 512, 0.3);
        /**
         * hidden 256, 2 heads of dim 128 (the GPU prefill's shared-memory opt-in), 1 kv head, an MLP width of 200 and
         * the tiny vocabulary: no dimension but the head a multiple of the GPU kernels' tiles.
         */
        public static final Shape TINY_HD128 = new Shape(256, 200, 2, 2, 1, 0, true, 8.0, 64, 512, 0.3);
        /** Llama-3.2-1B: hidden 2048, intermediate 8192, 16 layers, 32 heads, 8 kv heads, vocab 128256, tied. */
        public static final Shape ONE_B = new Shape(2048, 8192, 16, 32, 8, 128256, true, 32.0, 8192, 131072, 0.02);
        /** Llama-3.1-8B: hidden 4096, intermediate 14336, 32 layers, 32 heads, 8 kv heads, vocab 128256, untied. */
        public static final Shape EIGHT_B = new Shape(4096, 14336, 32, 32, 8, 128256, false, 8.0, 8192, 131072, 0.02);

        public static Shape parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "tiny" -> TINY;
                case "tiny128" -> TINY_HD128;
                case "1b" -> ONE_B;
                case "8b" -> EIGHT_B;
                default -> throw new IllegalArgumentException("unknown shape '" + s + "'; known: tiny, tiny128, 1b, 8b");
            };
        }

        /** This shape with another MLP width (tests: a model whose activations outgrow a small heap). */
        public Shape withIntermediate(int width) {
            return new Shape(hidden, width, layers, heads, kvHeads, vocab, llamaTied, ropeFactor,
                    ropeOriginalMaxPositions, maxPositions, embeddingStd);
        }

        /** This shape with another number of key/value heads (tests: one per attention head). */
        public Shape withKvHeads(int count) {
            return new Shape(hidden, intermediate, layers, heads, count, vocab, llamaTied, ropeFactor,
                    ropeOriginalMaxPositions, maxPositions, embeddingStd);
        }
    }

    public static void write(Path dir, Arch arch, DType dtype, long seed) throws IOException {
        write(dir, arch, dtype, seed, Shape.TINY);
    }

    public static void write(Path dir, Arch arch, DType dtype, long seed, Shape shape) throws IOException {
        Files.createDirectories(dir);
        ObjectMapper json = new ObjectMapper();
        Map<String, Integer> vocab = TinyTokenizer.vocabulary();
        int tokVocab = vocab.size();
        int hidden = shape.hidden, inter = shape.intermediate, layers = shape.layers, heads = shape.heads;
        int kvHeads = shape.kvHeads, vocabSize = shape.vocab > 0 ? shape.vocab : (tokVocab + 7) / 8 * 8;
        int headDim = hidden / heads;
        boolean tied = arch == Arch.LLAMA && shape.llamaTied;
        boolean bias = arch == Arch.QWEN2;

        ObjectNode c = json.createObjectNode();
        c.putArray("architectures").add(arch.hfName);
        c.put("model_type", arch.modelType);
        c.put("hidden_size", hidden);
        c.put("intermediate_size", inter);
        c.put("num_hidden_layers", layers);
        c.put("num_attention_heads", heads);
        c.put("num_key_value_heads", kvHeads);
        c.put("head_dim", headDim);
        c.put("vocab_size", vocabSize);
        c.put("rms_norm_eps", 1e-5);
        c.put("max_position_embeddings", shape.maxPositions);
        c.put("tie_word_embeddings", tied);
        c.put("torch_dtype", dtype == DType.F32 ? "float32" : dtype == DType.F16 ? "float16" : "bfloat16");
        c.put("hidden_act", "silu");
        if (arch == Arch.LLAMA) {
            c.put("rope_theta", 500000.0);
            ObjectNode rs = c.putObject("rope_scaling");
            rs.put("rope_type", "llama3");
            rs.put("factor", shape.ropeFactor);
            rs.put("low_freq_factor", 1.0);
            rs.put("high_freq_factor", 4.0);
            rs.put("original_max_position_embeddings", shape.ropeOriginalMaxPositions);
            c.put("attention_bias", false);
            c.put("bos_token_id", vocab.get("<|begin_of_text|>"));
            c.putArray("eos_token_id").add(vocab.get("<|eot_id|>")).add(vocab.get("<|end_of_text|>"));
        } else if (arch == Arch.MISTRAL) {
            c.put("rope_theta", 10000.0);
            c.put("bos_token_id", vocab.get("<s>"));
            c.put("eos_token_id", vocab.get("</s>"));
        } else {
            c.put("rope_theta", 1000000.0);
            c.put("bos_token_id", vocab.get("<|endoftext|>"));
            c.put("eos_token_id", vocab.get("<|im_end|>"));
        }
        json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), c);
        // like the real families: Llama 3 and Mistral tokenizers prepend BOS, Qwen2's adds nothing
        TinyTokenizer.write(dir.resolve("tokenizer.json"),
                arch == Arch.LLAMA ? "<|begin_of_text|>" : arch == Arch.MISTRAL ? "<s>" : null);

        SafetensorsWriter w = new SafetensorsWriter(Map.of("format", "pt"));
        int q = heads * headDim, kv = kvHeads * headDim;
        add(w, "model.embed_tokens.weight", dtype, seed, 0.0, shape.embeddingStd, vocabSize, hidden);
        for (int i = 0; i < layers; i++) {
            String p = "model.layers." + i + ".";
            add(w, p + "input_layernorm.weight", dtype, seed, 1.0, 0.1, hidden);
            add(w, p + "self_attn.q_proj.weight", dtype, seed, 0.0, 1 / Math.sqrt(hidden), q, hidden);
            add(w, p + "self_attn.k_proj.weight", dtype, seed, 0.0, 1 / Math.sqrt(hidden), kv, hidden);
            add(w, p + "self_attn.v_proj.weight", dtype, seed, 0.0, 1 / Math.sqrt(hidden), kv, hidden);
            if (bias) {
                add(w, p + "self_attn.q_proj.bias", dtype, seed, 0.0, 0.1, q);
                add(w, p + "self_attn.k_proj.bias", dtype, seed, 0.0, 0.1, kv);
                add(w, p + "self_attn.v_proj.bias", dtype, seed, 0.0, 0.1, kv);
            }
            add(w, p + "self_attn.o_proj.weight", dtype, seed, 0.0, 1 / Math.sqrt(q), hidden, q);
            add(w, p + "post_attention_layernorm.weight", dtype, seed, 1.0, 0.1, hidden);
            add(w, p + "mlp.gate_proj.weight", dtype, seed, 0.0, 1 / Math.sqrt(hidden), inter, hidden);
            add(w, p + "mlp.up_proj.weight", dtype, seed, 0.0, 1 / Math.sqrt(hidden), inter, hidden);
            add(w, p + "mlp.down_proj.weight", dtype, seed, 0.0, 1 / Math.sqrt(inter), hidden, inter);
        }
        add(w, "model.norm.weight", dtype, seed, 1.0, 0.1, hidden);
        if (!tied) add(w, "lm_head.weight", dtype, seed, 0.0, 1 / Math.sqrt(hidden), vocabSize, hidden);
        w.write(dir.resolve("model.safetensors"));
    }

    /** Uniform values with the given mean and standard deviation, from a stream seeded by (seed, name). */
    private static void add(SafetensorsWriter w, String name, DType dtype, long seed, double mean, double std, long... shape) {
        double halfWidth = std * Math.sqrt(3.0);
        SplittableRandom[] rng = new SplittableRandom[1];
        w.add(name, dtype, shape, (offset, chunk, len) -> {
            if (offset == 0) rng[0] = new SplittableRandom(seed * 0x9E3779B97F4A7C15L ^ name.hashCode());
            for (int i = 0; i < len; i++) chunk[i] = (float) (mean + (rng[0].nextDouble() * 2 - 1) * halfWidth);
        });
    }
}
