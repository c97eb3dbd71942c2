package io.sn11.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * A second, deliberately naive implementation of the Llama/Mistral/Qwen2 forward pass for tests. It shares no code
 * with the engine: it parses config.json and model.safetensors itself, decodes F16/BF16 with its own arithmetic,
 * keeps weights as double[][] and recomputes attention over the whole prefix for every position (no kv cache).
 */
public final class NaiveReferenceModel {
    private final JsonNode cfg;
    private final Map<String, double[][]> w = new HashMap<>();
    private final int hidden, heads, kvHeads, headDim, layers, vocab;
    private final double eps;
    private final double[] invFreq;

    public NaiveReferenceModel(Path dir) throws IOException {
        ObjectMapper om = new ObjectMapper();
        cfg = om.readTree(dir.resolve("config.json").toFile());
        hidden = cfg.get("hidden_size").asInt();
        heads = cfg.get("num_attention_heads").asInt();
        kvHeads = cfg.has("num_key_value_heads") ? cfg.get("num_key_value_heads").asInt() : heads;
        headDim = cfg.has("head_dim") ? cfg.get("head_dim").asInt() : hidden / heads;
        layers = cfg.get("num_hidden_layers").asInt();
        vocab = cfg.get("vocab_size").asInt();
        eps = cfg.get("rms_norm_eps").asDouble();
        readWeights(dir.resolve("model.safetensors"), om);
        invFreq = new double[headDim / 2];
        double theta = cfg.has("rope_theta") ? cfg.get("rope_theta").asDouble() : 10000;
        JsonNode rs = cfg.get("rope_scaling");
        for (int i = 0; i < headDim / 2; i++) {
            double f = Math.pow(theta, -2.0 * i / headDim);
            if (rs != null && !rs.isNull()) {
                // Llama 3.1: keep high frequencies, divide low frequencies by factor, interpolate between
                double factor = rs.get("factor").asDouble(), lo = rs.get("low_freq_factor").asDouble();
                double hi = rs.get("high_freq_factor").asDouble();
                double orig = rs.get("original_max_position_embeddings").asDouble();
                double wavelength = 2 * Math.PI / f;
                if (wavelength > orig / lo) {
                    f = f / factor;
                } else if (wavelength >= orig / hi) {
                    double t = (orig / wavelength - lo) / (hi - lo);
                    f = (1 - t) * (f / factor) + t * f;
                }
            }
            invFreq[i] = (float) f; // the model's table is float32, as in Hugging Face
        }
    }

    private void readWeights(Path file, ObjectMapper om) throws IOException {
        byte[] all = Files.readAllBytes(file);
        ByteBuffer bb = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) bb.getLong(0);
        JsonNode header = om.readTree(new String(all, 8, n, java.nio.charset.StandardCharsets.UTF_8));
        int base = 8 + n;
        Iterator<String> names = header.fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            if (name.equals("__metadata__")) continue;
            JsonNode e = header.get(name);
            String dt = e.get("dtype").asText();
            JsonNode shape = e.get("shape");
            int rows = shape.size() == 2 ? shape.get(0).asInt() : 1;
            int cols = shape.size() == 2 ? shape.get(1).asInt() : shape.get(0).asInt();
            int off = base + e.get("data_offsets").get(0).asInt();
            double[][] m = new double[rows][cols];
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    int i = r * cols + c;
                    m[r][c] = switch (dt) {
                        case "F32" -> bb.getFloat(off + 4 * i);
                        case "BF16" -> Float.intBitsToFloat((bb.getShort(off + 2 * i) & 0xffff) << 16);
                        case "F16" -> half(bb.getShort(off + 2 * i) & 0xffff);
                        default -> throw new IllegalStateException(dt);
                    };
                }
            }
            w.put(name, m);
        }
    }

    /** IEEE half by its definition: (-1)^s * 2^(e-15) * (1 + m/1024), subnormals 2^-14 * m/1024. */
    private static double half(int h) {
        int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
        double v = e == 0 ? Math.scalb(m / 1024.0, -14) : Math.scalb(1 + m / 1024.0, e - 15);
        return s == 1 ? -v : v;
    }

    private double[][] W(String name) {
        double[][] m = w.get(name);
        if (m == null) throw new IllegalStateException("no " + name);
        return m;
    }

    private static double[] linear(double[] x, double[][] wt, double[][] bias) {
        double[] y = new double[wt.length];
        for (int o = 0; o < wt.length; o++) {
            double s = bias == null ? 0 : bias[0][o];
            for (int i = 0; i < x.length; i++) s += x[i] * wt[o][i];
            y[o] = s;
        }
        return y;
    }

    private double[] rmsnorm(double[] x, double[][] g) {
        double ss = 0;
        for (double v : x) ss += v * v;
        double r = 1 / Math.sqrt(ss / x.length + eps);
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i] * r * g[0][i];
        return y;
    }

    private void rotate(double[] v, int nHeads, int pos) {
        int half = headDim / 2;
        for (int h = 0; h < nHeads; h++) {
            for (int i = 0; i < half; i++) {
                double a = (float) (pos * (float) invFreq[i]);
                int p = h * headDim + i, q = p + half;
                double x1 = v[p], x2 = v[q];
                v[p] = x1 * Math.cos(a) - x2 * Math.sin(a);
                v[q] = x2 * Math.cos(a) + x1 * Math.sin(a);
            }
        }
    }

    /** Logits of every position, [T][vocab]. */
    public double[][] logits(int[] tokens) {
        int T = tokens.length;
        double[][] x = new double[T][];
        for (int t = 0; t < T; t++) x[t] = W("model.embed_tokens.weight")[tokens[t]].clone();
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            double[][] q = new double[T][], k = new double[T][], v = new double[T][];
            for (int t = 0; t < T; t++) {
                double[] h = rmsnorm(x[t], W(p + "input_layernorm.weight"));
                q[t] = linear(h, W(p + "self_attn.q_proj.weight"), w.get(p + "self_attn.q_proj.bias"));
                k[t] = linear(h, W(p + "self_attn.k_proj.weight"), w.get(p + "self_attn.k_proj.bias"));
                v[t] = linear(h, W(p + "self_attn.v_proj.weight"), w.get(p + "self_attn.v_proj.bias"));
                rotate(q[t], heads, t);
                rotate(k[t], kvHeads, t);
            }
            for (int t = 0; t < T; t++) {
                double[] att = new double[heads * headDim];
                for (int h = 0; h < heads; h++) {
                    int kvh = h * kvHeads / heads;
                    double[] s = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int u = 0; u <= t; u++) {
                        double d = 0;
                        for (int i = 0; i < headDim; i++) d += q[t][h * headDim + i] * k[u][kvh * headDim + i];
                        s[u] = d / Math.sqrt(headDim);
                        max = Math.max(max, s[u]);
                    }
                    double z = 0;
                    for (int u = 0; u <= t; u++) { s[u] = Math.exp(s[u] - max); z += s[u]; }
                    for (int u = 0; u <= t; u++) {
                        for (int i = 0; i < headDim; i++) att[h * headDim + i] += s[u] / z * v[u][kvh * headDim + i];
                    }
                }
                double[] o = linear(att, W(p + "self_attn.o_proj.weight"), null);
                for (int i = 0; i < hidden; i++) x[t][i] += o[i];
            }
            for (int t = 0; t < T; t++) {
                double[] h = rmsnorm(x[t], W(p + "post_attention_layernorm.weight"));
                double[] g = linear(h, W(p + "mlp.gate_proj.weight"), null);
                double[] u = linear(h, W(p + "mlp.up_proj.weight"), null);
                for (int i = 0; i < g.length; i++) g[i] = g[i] / (1 + Math.exp(-g[i])) * u[i];
                double[] d = linear(g, W(p + "mlp.down_proj.weight"), null);
                for (int i = 0; i < hidden; i++) x[t][i] += d[i];
            }
        }
        double[][] head = w.containsKey("lm_head.weight") ? W("lm_head.weight") : W("model.embed_tokens.weight");
        double[][] out = new double[T][];
        for (int t = 0; t < T; t++) out[t] = linear(rmsnorm(x[t], W("model.norm.weight")), head, null);
        return out;
    }

    public int vocab() { return vocab; }
}
