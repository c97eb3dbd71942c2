package io.sn11.engine.model;

import io.sn11.engine.safetensors.SafetensorsFile;
import io.sn11.engine.safetensors.SafetensorsModel;
import io.sn11.engine.safetensors.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * All weights of a model, looked up by their Hugging Face names and checked against the config before use.
 * Tensors stay memory-mapped in their stored dtype.
 */
public final class ModelWeights implements AutoCloseable {
    private final ModelConfig config;
    private final SafetensorsModel source;
    private final Tensor embedding;
    private final List<LayerWeights> layers;
    private final Tensor finalNorm;
    private final Tensor lmHead;

    private ModelWeights(ModelConfig config, SafetensorsModel source, Tensor embedding, List<LayerWeights> layers,
                         Tensor finalNorm, Tensor lmHead) {
        this.config = config;
        this.source = source;
        this.embedding = embedding;
        this.layers = layers;
        this.finalNorm = finalNorm;
        this.lmHead = lmHead;
    }

    public static ModelWeights load(Path dir, ModelConfig c) throws IOException {
        SafetensorsModel st = SafetensorsModel.open(dir);
        try {
            long h = c.hiddenSize(), q = c.qDim(), kv = c.kvDim(), ff = c.intermediateSize(), v = c.vocabSize();
            Tensor emb = get(st, "model.embed_tokens.weight", v, h);
            List<LayerWeights> layers = new ArrayList<>();
            for (int i = 0; i < c.numLayers(); i++) {
                String p = "model.layers." + i + ".";
                boolean b = c.attentionBias();
                layers.add(new LayerWeights(
                        get(st, p + "input_layernorm.weight", h),
                        get(st, p + "self_attn.q_proj.weight", q, h),
                        get(st, p + "self_attn.k_proj.weight", kv, h),
                        get(st, p + "self_attn.v_proj.weight", kv, h),
                        b ? get(st, p + "self_attn.q_proj.bias", q) : null,
                        b ? get(st, p + "self_attn.k_proj.bias", kv) : null,
                        b ? get(st, p + "self_attn.v_proj.bias", kv) : null,
                        get(st, p + "self_attn.o_proj.weight", h, q),
                        get(st, p + "post_attention_layernorm.weight", h),
                        get(st, p + "mlp.gate_proj.weight", ff, h),
                        get(st, p + "mlp.up_proj.weight", ff, h),
                        get(st, p + "mlp.down_proj.weight", h, ff)));
            }
            Tensor norm = get(st, "model.norm.weight", h);
            Tensor head = c.tieWordEmbeddings() && !st.contains("lm_head.weight") ? emb : get(st, "lm_head.weight", v, h);
            return new ModelWeights(c, st, emb, List.copyOf(layers), norm, head);
        } catch (RuntimeException e) {
            st.close();
            throw e;
        }
    }

    private static Tensor get(SafetensorsModel st, String name, long... expected) {
        if (!st.contains(name)) throw new ModelException("missing tensor " + name + " (expected shape " + Arrays.toString(expected) + ")");
        Tensor t = st.tensor(name);
        if (!Arrays.equals(t.shape(), expected)) {
            throw new ModelException("tensor " + name + " has shape " + Arrays.toString(t.shape())
                    + " but the config expects " + Arrays.toString(expected));
        }
        return t;
    }

    public ModelConfig config() { return config; }
    public Tensor embedding() { return embedding; }
    public List<LayerWeights> layers() { return layers; }
    public Tensor finalNorm() { return finalNorm; }
    public Tensor lmHead() { return lmHead; }
    public long fileBytes() throws IOException { return source.fileBytes(); }

    /** The safetensors files the weights are mapped from: their bytes are the ones the engine computes with. */
    public List<SafetensorsFile> files() { return source.files(); }

    @Override
    public void close() throws IOException { source.close(); }
}
