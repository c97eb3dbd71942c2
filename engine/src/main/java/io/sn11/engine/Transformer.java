package io.sn11.engine;

import io.sn11.engine.backend.Backend;
import io.sn11.engine.backend.Backend.Buffer;
import io.sn11.engine.backend.Backend.KvCache;
import io.sn11.engine.backend.Backend.Projection;
import io.sn11.engine.backend.Backend.SeqSlice;
import io.sn11.engine.backend.Backend.TopKStats;
import io.sn11.engine.backend.Backend.WeightHandle;
import io.sn11.engine.backend.MemoryEstimate;
import io.sn11.engine.backend.RopeTable;
import io.sn11.engine.model.LayerWeights;
import io.sn11.engine.model.ModelConfig;
import io.sn11.engine.model.ModelWeights;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The decoder-only forward pass shared by Llama, Mistral and Qwen2:
 * <pre>
 * x = embed(tokens)
 * for each layer:
 *     h = rmsnorm(x) ; q,k,v = h.Wq(+bq), h.Wk(+bk), h.Wv(+bv) ; rope(q), rope(k)
 *     x = x + attention(q, k, v over the kv cache).Wo
 *     h = rmsnorm(x) ; x = x + (silu(h.Wgate) * h.Wup).Wdown
 * logits = rmsnorm(x).Wlm_head            (lm_head = embed when tied)
 * </pre>
 * The same code runs a teacher-forced prefill of a batch of sequences (several rows each) and a one-token decode;
 * each {@link Sequence} carries its own kv cache and length.
 *
 * <p>The activations of a pass live in a workspace of backend buffers that every pass reuses: each grows to the
 * largest pass seen and is freed on {@link #close}, so a decode step allocates no buffer. One pass at a time: a
 * Transformer is not for concurrent use.
 */
public final class Transformer implements AutoCloseable {

    /** Uploaded weights of one layer (biases null when the config has none). */
    private record Layer(WeightHandle inputNorm, WeightHandle wq, WeightHandle wk, WeightHandle wv,
                         WeightHandle bq, WeightHandle bk, WeightHandle bv, WeightHandle wo,
                         WeightHandle postNorm, WeightHandle gate, WeightHandle up, WeightHandle down) {}

    /** One sequence being processed: its kv cache and how many positions it holds. */
    public static final class Sequence implements AutoCloseable {
        private final KvCache cache;
        private int length;

        private Sequence(KvCache cache) { this.cache = cache; }

        public int length() { return length; }
        public int capacity() { return cache.capacity(); }

        /** Forgets positions from {@code newLength} on (they will be overwritten). */
        public void truncate(int newLength) {
            if (newLength < 0 || newLength > length) throw new IllegalArgumentException("bad length " + newLength);
            length = newLength;
        }

        @Override public void close() { cache.close(); }
    }

    private final ModelConfig config;
    private final ModelWeights weights;
    private final Backend backend;
    private final WeightHandle embedding, finalNorm, lmHead;
    private final List<Layer> layers = new ArrayList<>();
    private final Buffer invFreq;
    private final List<WeightHandle> uploaded = new ArrayList<>();

    /** The workspace's buffers by role: what one pass computes, reused by the next (see {@link #scratch}). */
    private enum Slot { HIDDEN, NORMED, Q, K, V, ATTENTION, GATE, UP, SELECTED, LOGITS }
    private final Map<Slot, Buffer> workspace = new EnumMap<>(Slot.class);

    public Transformer(ModelWeights weights, Backend backend) {
        this.config = weights.config();
        this.weights = weights;
        this.backend = backend;
        try {
            backend.requireMemory(MemoryEstimate.forModel(config, weights.fileBytes(), MemoryEstimate.DEFAULT_WORKING_TOKENS),
                    "model " + config.architecture() + " (" + config.parameterCount() + " parameters) with "
                            + MemoryEstimate.DEFAULT_WORKING_TOKENS + " tokens in flight");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.embedding = up(weights.embedding());
        this.finalNorm = up(weights.finalNorm());
        this.lmHead = weights.lmHead() == weights.embedding() ? embedding : up(weights.lmHead());
        for (LayerWeights l : weights.layers()) {
            layers.add(new Layer(up(l.inputNorm()), up(l.wq()), up(l.wk()), up(l.wv()), up(l.bq()), up(l.bk()),
                    up(l.bv()), up(l.wo()), up(l.postAttentionNorm()), up(l.wGate()), up(l.wUp()), up(l.wDown())));
        }
        this.invFreq = backend.upload(RopeTable.inverseFrequencies(config));
    }

    /** Uploads one tensor (null stays null) and remembers the handle so that close() frees it. */
    private WeightHandle up(io.sn11.engine.safetensors.Tensor t) {
        if (t == null) return null;
        WeightHandle h = backend.upload(t);
        uploaded.add(h);
        return h;
    }

    /** Reads config.json and the safetensors of {@code dir} and uploads the weights to {@code backend}. */
    public static Transformer load(Path dir, Backend backend) throws IOException {
        ModelConfig c = ModelConfig.read(dir);
        ModelWeights w = ModelWeights.load(dir, c);
        try {
            return new Transformer(w, backend);
        } catch (RuntimeException e) {
            w.close();
            throw e;
        }
    }

    public ModelConfig config() { return config; }
    public Backend backend() { return backend; }
    public long modelFileBytes() throws IOException { return weights.fileBytes(); }

    public Sequence newSequence(int capacity) {
        if (capacity > config.maxPositionEmbeddings()) capacity = Math.max(1, config.maxPositionEmbeddings());
        return new Sequence(backend.allocateKvCache(config.numLayers(), config.numKvHeads(), config.headDim(), capacity));
    }

    /**
     * Appends {@code tokens.get(i)} to {@code seqs.get(i)} for every i (one batched pass) and returns the final
     * normalised hidden states, {@code [sum of lengths x hidden]}, rows in batch order. The caller closes it.
     */
    public Buffer forwardHidden(List<Sequence> seqs, List<int[]> tokens) {
        return forward(seqs, tokens, false);
    }

    /**
     * The pass of {@link #forwardHidden}, every activation in the workspace; with {@code inWorkspace} the returned
     * hidden states too (valid until the next pass), else in a new buffer the caller closes.
     */
    private Buffer forward(List<Sequence> seqs, List<int[]> tokens, boolean inWorkspace) {
        if (seqs.size() != tokens.size()) throw new IllegalArgumentException("one token array per sequence");
        int rows = 0;
        for (int[] t : tokens) rows += t.length;
        int[] allTokens = new int[rows], positions = new int[rows];
        List<SeqSlice> slices = new ArrayList<>();
        int r = 0;
        for (int i = 0; i < seqs.size(); i++) {
            Sequence s = seqs.get(i);
            int[] t = tokens.get(i);
            if (s.length + t.length > s.capacity()) {
                throw new IllegalArgumentException("sequence of " + (s.length + t.length) + " tokens exceeds its capacity "
                        + s.capacity());
            }
            slices.add(new SeqSlice(s.cache, r, t.length, s.length));
            for (int j = 0; j < t.length; j++) {
                allTokens[r] = t[j];
                positions[r] = s.length + j;
                r++;
            }
        }
        ModelConfig c = config;
        int h = c.hiddenSize(), qd = c.qDim(), kvd = c.kvDim(), ff = c.intermediateSize();
        Buffer x = inWorkspace ? scratch(Slot.HIDDEN, rows * h) : backend.allocate(rows * h);
        try {
            Buffer hb = scratch(Slot.NORMED, rows * h);
            Buffer q = scratch(Slot.Q, rows * qd);
            Buffer k = scratch(Slot.K, rows * kvd);
            Buffer v = scratch(Slot.V, rows * kvd);
            Buffer att = scratch(Slot.ATTENTION, rows * qd);
            Buffer gate = scratch(Slot.GATE, rows * ff);
            Buffer upb = scratch(Slot.UP, rows * ff);
            backend.embedding(embedding, allTokens, x);
            for (int li = 0; li < layers.size(); li++) {
                Layer l = layers.get(li);
                backend.rmsnorm(x, l.inputNorm(), rows, c.rmsNormEps(), hb);
                backend.matmul(hb, rows, List.of(new Projection(l.wq(), l.bq(), q), new Projection(l.wk(), l.bk(), k),
                        new Projection(l.wv(), l.bv(), v)));
                backend.rope(q, rows, c.numHeads(), c.headDim(), positions, invFreq);
                backend.rope(k, rows, c.numKvHeads(), c.headDim(), positions, invFreq);
                backend.attention(li, q, k, v, slices, c.numHeads(), c.numKvHeads(), c.headDim(), att);
                backend.matmul(att, rows, l.wo(), null, hb);
                backend.add(x, hb, rows * h);
                backend.rmsnorm(x, l.postNorm(), rows, c.rmsNormEps(), hb);
                backend.matmul(hb, rows, List.of(new Projection(l.gate(), null, gate), new Projection(l.up(), null, upb)));
                backend.siluMul(gate, upb, rows * ff);
                backend.matmul(gate, rows, l.down(), null, hb);
                backend.add(x, hb, rows * h);
            }
            backend.rmsnorm(x, finalNorm, rows, c.rmsNormEps(), x);
        } catch (RuntimeException e) {
            if (!inWorkspace) x.close();
            throw e;
        }
        for (int i = 0; i < seqs.size(); i++) seqs.get(i).length += tokens.get(i).length;
        return x;
    }

    /**
     * The workspace buffer of {@code slot} with room for at least {@code floats}, replaced by a larger one when the pass
     * outgrows it. What it holds is overwritten by the next pass: never handed to a caller.
     */
    private Buffer scratch(Slot slot, int floats) {
        Buffer b = workspace.get(slot);
        if (b != null && b.size() >= floats) return b;
        if (b != null) workspace.remove(slot).close();
        b = backend.allocate(Math.max(1, floats));
        workspace.put(slot, b);
        return b;
    }

    /**
     * Logits of the given rows of a hidden-state buffer: {@code [rows.length x vocab]} on the backend. The caller
     * closes it.
     */
    public Buffer logitsOfRows(Buffer hidden, int[] rows) {
        Buffer out = backend.allocate(Math.max(1, rows.length) * config.vocabSize());
        try {
            logitsInto(hidden, rows, out);
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
        return out;
    }

    /** As {@link #logitsOfRows} into the workspace: valid until the next pass. */
    private Buffer logitsInWorkspace(Buffer hidden, int[] rows) {
        Buffer out = scratch(Slot.LOGITS, rows.length * config.vocabSize());
        logitsInto(hidden, rows, out);
        return out;
    }

    private void logitsInto(Buffer hidden, int[] rows, Buffer out) {
        int h = config.hiddenSize();
        Buffer selected = scratch(Slot.SELECTED, rows.length * h);
        backend.gatherRows(hidden, h, rows, selected);
        backend.matmul(selected, rows.length, lmHead, null, out);
    }

    /** The logits of the given rows of a hidden-state buffer, downloaded row by row. */
    private float[][] downloadLogits(Buffer hidden, int[] rows) {
        Buffer l = logitsInWorkspace(hidden, rows);
        int vocab = config.vocabSize();
        float[][] out = new float[rows.length][];
        for (int i = 0; i < rows.length; i++) out[i] = backend.download(l, i * vocab, vocab);
        return out;
    }

    /** Full logits of every position of one fresh sequence: {@code [tokens.length][vocab]}. */
    public float[][] logits(int[] tokens) {
        try (Sequence s = newSequence(tokens.length)) {
            return logits(s, tokens);
        }
    }

    /** Appends tokens to {@code seq} and returns the logits of each appended position. */
    public float[][] logits(Sequence seq, int[] tokens) {
        Buffer hidden = forward(List.of(seq), List.of(tokens), true);
        int[] rows = new int[tokens.length];
        for (int i = 0; i < rows.length; i++) rows[i] = i;
        return downloadLogits(hidden, rows);
    }

    /**
     * Appends {@code tokens.get(i)} (at least one token) to {@code seqs.get(i)} for every i in one batched pass and
     * returns the logits after each sequence's last token, {@code [seqs.size()][vocab]}: a batched decode step.
     */
    public float[][] nextLogits(List<Sequence> seqs, List<int[]> tokens) {
        int[] lastRows = new int[tokens.size()];
        int r = 0;
        for (int j = 0; j < lastRows.length; j++) {
            if (tokens.get(j).length == 0) throw new IllegalArgumentException("sequence " + j + " is given no token");
            r += tokens.get(j).length;
            lastRows[j] = r - 1;
        }
        return downloadLogits(forward(seqs, tokens, true), lastRows);
    }

    /**
     * Teacher-forced scoring reduction over a batch: for sample i, tokens {@code tokens.get(i)} with the target
     * starting at index {@code targetStart[i]} (>= 1). Returns per sample the top-k statistics of each target
     * token given everything before it. Only per-position statistics leave the backend; logits are computed in
     * chunks of {@code logitsChunk} rows.
     */
    public List<TopKStats> scoreTargets(List<int[]> tokens, int[] targetStart, int k, int logitsChunk) {
        List<Sequence> seqs = new ArrayList<>();
        try {
            for (int[] t : tokens) seqs.add(newSequence(t.length));
            List<TopKStats> out = new ArrayList<>();
            Buffer hidden = forward(seqs, tokens, true);
            int rowBase = 0;
            for (int i = 0; i < tokens.size(); i++) {
                int[] t = tokens.get(i);
                int s = targetStart[i];
                if (s < 1 || s >= t.length) throw new IllegalArgumentException("target start " + s + " outside (0, " + t.length + ")");
                int n = t.length - s;
                float[] prob = new float[n], ent = new float[n];
                boolean[] in = new boolean[n];
                for (int c0 = 0; c0 < n; c0 += logitsChunk) {
                    int m = Math.min(logitsChunk, n - c0);
                    int[] rows = new int[m], targets = new int[m];
                    for (int j = 0; j < m; j++) {
                        rows[j] = rowBase + s - 1 + c0 + j;  // position predicting token s + c0 + j
                        targets[j] = t[s + c0 + j];
                    }
                    TopKStats st = backend.topKStats(logitsInWorkspace(hidden, rows), m, config.vocabSize(), targets, k);
                    System.arraycopy(st.targetProb(), 0, prob, c0, m);
                    System.arraycopy(st.entropy(), 0, ent, c0, m);
                    System.arraycopy(st.targetInTopK(), 0, in, c0, m);
                }
                out.add(new TopKStats(prob, in, ent));
                rowBase += t.length;
            }
            return out;
        } finally {
            for (Sequence s : seqs) s.close();
        }
    }

    @Override
    public void close() throws IOException {
        for (Buffer b : workspace.values()) b.close();
        workspace.clear();
        for (WeightHandle h : uploaded) h.close();
        invFreq.close();
        weights.close();
    }
}
