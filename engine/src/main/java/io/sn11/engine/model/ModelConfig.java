package io.sn11.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The subset of a Hugging Face {@code config.json} that the forward pass needs. One decoder layout for all
 * supported families; the differences (q/k/v bias, rope scaling, tied embeddings) are fields here.
 */
public record ModelConfig(
        String architecture,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int vocabSize,
        float rmsNormEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        boolean tieWordEmbeddings,
        int maxPositionEmbeddings,
        boolean attentionBias,
        List<Integer> bosTokenIds,
        List<Integer> eosTokenIds,
        int slidingWindow) {

    public static final Set<String> SUPPORTED = Set.of("LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM");

    public static ModelConfig read(Path dir) throws IOException {
        Path file = dir.resolve("config.json");
        if (!Files.isRegularFile(file)) throw new ModelException(dir + ": no config.json");
        return fromJson(Files.readAllBytes(file), file.toString());
    }

    /** The config a {@code config.json}'s bytes describe; {@code where} names them in errors. */
    public static ModelConfig fromJson(byte[] json, String where) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json);
        } catch (IOException e) {
            throw new ModelException(where + ": not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) throw new ModelException(where + ": not a JSON object");
        return parse(root, where);
    }

    public static ModelConfig parse(JsonNode root, String where) {
        JsonNode archs = root.get("architectures");
        if (archs == null || !archs.isArray() || archs.size() == 0) {
            throw new ModelException(where + ": missing architectures; supported: " + SUPPORTED);
        }
        String arch = archs.get(0).asText();
        if (!SUPPORTED.contains(arch)) {
            throw new ModelException(where + ": unsupported architecture " + arch + "; supported: " + String.join(", ", new java.util.TreeSet<>(SUPPORTED)));
        }
        String act = root.path("hidden_act").asText("silu");
        if (!act.equals("silu") && !act.equals("swish")) {
            throw new ModelException(where + ": unsupported hidden_act '" + act + "'; supported: silu");
        }
        int hidden = reqInt(root, "hidden_size", where);
        int inter = reqInt(root, "intermediate_size", where);
        int layers = reqInt(root, "num_hidden_layers", where);
        int heads = reqInt(root, "num_attention_heads", where);
        int kvHeads = optInt(root, "num_key_value_heads", heads, where);
        if (hidden % heads != 0 && !root.hasNonNull("head_dim")) {
            throw new ModelException(where + ": hidden_size " + hidden + " not divisible by num_attention_heads " + heads);
        }
        int headDim = optInt(root, "head_dim", hidden / heads, where);
        int vocab = reqInt(root, "vocab_size", where);
        if (heads % kvHeads != 0) {
            throw new ModelException(where + ": num_attention_heads " + heads + " not a multiple of num_key_value_heads " + kvHeads);
        }
        if (headDim % 2 != 0) throw new ModelException(where + ": head_dim " + headDim + " must be even for rope");
        // q/k/v widths index int buffers: a product beyond int must not wrap around into a small, plausible width
        long qDim = (long) heads * headDim;
        if (qDim > Integer.MAX_VALUE) {
            throw new ModelException(where + ": num_attention_heads " + heads + " x head_dim " + headDim + " = " + qDim
                    + " is wider than the engine's largest dimension " + Integer.MAX_VALUE);
        }
        double eps = root.hasNonNull("rms_norm_eps") ? root.get("rms_norm_eps").asDouble() : 1e-6;
        double theta = root.hasNonNull("rope_theta") ? root.get("rope_theta").asDouble() : 10000.0;
        RopeScaling scaling = parseRopeScaling(root.get("rope_scaling"), where);
        boolean tie = root.hasNonNull("tie_word_embeddings") && root.get("tie_word_embeddings").asBoolean();
        int maxPos = optInt(root, "max_position_embeddings", 2048, where);
        boolean bias = arch.equals("Qwen2ForCausalLM")
                || (root.hasNonNull("attention_bias") && root.get("attention_bias").asBoolean());
        return new ModelConfig(arch, hidden, inter, layers, heads, kvHeads, headDim, vocab, (float) eps, theta, scaling,
                tie, maxPos, bias, ids(root.get("bos_token_id")), ids(root.get("eos_token_id")), slidingWindow(root, arch));
    }

    /**
     * Mistral v0.1 attends over a sliding window; Qwen2 only when use_sliding_window is true. 0 means full attention.
     * The engine attends over everything, which is exact while sequences are not longer than the window; evaluation
     * caps sample length at it.
     */
    private static int slidingWindow(JsonNode root, String arch) {
        JsonNode w = root.get("sliding_window");
        if (w == null || !w.isIntegralNumber() || w.asInt() <= 0) return 0;
        if (arch.equals("Qwen2ForCausalLM") && !root.path("use_sliding_window").asBoolean(false)) return 0;
        if (arch.equals("LlamaForCausalLM")) return 0;
        return w.asInt();
    }

    private static RopeScaling parseRopeScaling(JsonNode n, String where) {
        if (n == null || n.isNull()) return null;
        String type = n.hasNonNull("rope_type") ? n.get("rope_type").asText()
                : n.hasNonNull("type") ? n.get("type").asText() : "";
        if (type.equals("default")) return null;
        if (!type.equals("llama3")) {
            throw new ModelException(where + ": unsupported rope_scaling type '" + type + "'; supported: llama3 (or none)");
        }
        return new RopeScaling(n.path("factor").asDouble(8.0), n.path("low_freq_factor").asDouble(1.0),
                n.path("high_freq_factor").asDouble(4.0), n.path("original_max_position_embeddings").asInt(8192));
    }

    private static List<Integer> ids(JsonNode n) {
        List<Integer> out = new ArrayList<>();
        if (n == null || n.isNull()) return List.of();
        if (n.isArray()) n.forEach(x -> out.add(x.asInt()));
        else out.add(n.asInt());
        return List.copyOf(out);
    }

    private static int reqInt(JsonNode root, String key, String where) {
        JsonNode n = root.get(key);
        if (n == null || !n.canConvertToInt() || !n.isIntegralNumber() || n.asInt() <= 0) {
            throw new ModelException(where + ": " + key + " missing or not a positive integer");
        }
        return n.asInt();
    }

    private static int optInt(JsonNode root, String key, int dflt, String where) {
        return root.hasNonNull(key) ? reqInt(root, key, where) : dflt;
    }

    /** Exact: {@link #parse} refuses configs whose head widths do not fit an int. */
    public int qDim() { return Math.multiplyExact(numHeads, headDim); }
    public int kvDim() { return Math.multiplyExact(numKvHeads, headDim); }

    /** Number of weights the config implies (for sizes and benches). */
    public long parameterCount() { return ModelSizes.parameters(this); }
}
