package io.sn11.engine.eval;

import io.sn11.engine.EngineVersion;
import io.sn11.engine.Transformer;
import io.sn11.engine.backend.Backend;
import io.sn11.engine.backend.Backend.TopKStats;
import io.sn11.engine.data.Conversation;
import io.sn11.engine.data.Dataset;
import io.sn11.engine.model.ModelConfig;
import io.sn11.engine.scoring.EvalScore;
import io.sn11.engine.tokenizer.ChatTemplate;
import io.sn11.engine.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Scores a model folder on a dataset: picks samples deterministically, renders each with the chat template,
 * tokenizes context (with the tokenizer's own leading special tokens, see {@link Tokenizer#encodePrompt}) and target
 * separately (so the target's tokens are exactly its own), runs the teacher-forced
 * forward pass in batches, and combines the backend's per-position statistics into the eval score and creativity.
 * Latency is the mean wall time of the forward pass per sample.
 */
public final class Evaluation {

    /**
     * @param samples      how many conversations to score
     * @param modelHash    seeds the sample choice (with the dataset version)
     * @param maxTokens    longest context+target; longer samples lose context from the left
     * @param batchSize    samples per batched forward pass
     */
    public record Options(int samples, String modelHash, ChatTemplate template, int maxTokens, int batchSize) {
        public static Options defaults() { return new Options(16, "0", ChatTemplate.CHATML, 2048, 1); }
    }

    /** Told after each batch how many of the samples have been scored. */
    @FunctionalInterface
    public interface ProgressListener {
        ProgressListener NONE = (scored, total) -> {};

        void scored(int scored, int total);
    }

    /** One tokenized sample: tokens, where the target starts. */
    record Prepared(String id, int[] tokens, int targetStart) {}

    private Evaluation() {}

    public static EvalResult run(Path modelDir, Dataset dataset, Options o, Backend backend) throws IOException {
        try (Transformer model = Transformer.load(modelDir, backend); Tokenizer tok = Tokenizer.load(modelDir)) {
            return run(modelDir.toString(), model, tok, dataset, o);
        }
    }

    public static EvalResult run(String modelName, Transformer model, Tokenizer tok, Dataset dataset, Options o)
            throws IOException {
        return run(modelName, model, tok, dataset, o, ProgressListener.NONE);
    }

    public static EvalResult run(String modelName, Transformer model, Tokenizer tok, Dataset dataset, Options o,
                                 ProgressListener progress) throws IOException {
        List<Prepared> prepared = prepare(model.config(), tok, dataset, o);

        List<EvalScore.SampleScore> scores = new ArrayList<>();
        double forwardMs = 0;
        int scoredTokens = 0;
        for (int b = 0; b < prepared.size(); b += o.batchSize()) {
            List<Prepared> batch = prepared.subList(b, Math.min(prepared.size(), b + o.batchSize()));
            List<int[]> tokens = batch.stream().map(Prepared::tokens).toList();
            int[] starts = batch.stream().mapToInt(Prepared::targetStart).toArray();
            long t0 = System.nanoTime();
            List<TopKStats> stats = model.scoreTargets(tokens, starts, EvalScore.TOP_K, 64);
            forwardMs += (System.nanoTime() - t0) / 1e6;
            for (TopKStats s : stats) {
                EvalScore.SampleScore sc = EvalScore.score(s);
                scores.add(sc);
                scoredTokens += sc.targetTokens();
            }
            progress.scored(scores.size(), prepared.size());
        }
        EvalScore.Aggregate agg = EvalScore.average(scores);
        Backend be = model.backend();
        return new EvalResult(modelName, agg.evalScore(), agg.creativity(),
                prepared.isEmpty() ? 0 : forwardMs / prepared.size(), model.modelFileBytes(), prepared.size(),
                scoredTokens, prepared.stream().map(Prepared::id).toList(), o.template().id(), dataset.version(),
                EngineVersion.VERSION, be.name(), be.settings());
    }

    /** The samples {@code o} chooses from the dataset, tokenized for a model of this config. */
    static List<Prepared> prepare(ModelConfig config, Tokenizer tok, Dataset dataset, Options o) {
        int limit = Math.min(o.maxTokens(), config.maxPositionEmbeddings());
        if (config.slidingWindow() > 0) limit = Math.min(limit, config.slidingWindow()); // full attention is exact below it
        List<Prepared> prepared = new ArrayList<>();
        for (Conversation c : dataset.select(o.modelHash(), o.samples())) prepared.add(prepare(c, o.template(), tok, limit));
        return prepared;
    }

    static Prepared prepare(Conversation c, ChatTemplate template, Tokenizer tok, int limit) {
        ChatTemplate.Formatted f = template.format(c.messages());
        int[] ctx = tok.encodePrompt(f.context());
        int[] tgt = tok.encode(f.target());
        if (tgt.length == 0) throw new IllegalArgumentException("conversation " + c.id() + ": empty target");
        if (tgt.length >= limit) tgt = Arrays.copyOf(tgt, limit - 1);
        int keepCtx = Math.min(ctx.length, limit - tgt.length);
        if (keepCtx < 1) throw new IllegalArgumentException("conversation " + c.id() + ": no room for context");
        int[] tokens = new int[keepCtx + tgt.length];
        System.arraycopy(ctx, ctx.length - keepCtx, tokens, 0, keepCtx);
        System.arraycopy(tgt, 0, tokens, keepCtx, tgt.length);
        return new Prepared(c.id(), tokens, keepCtx);
    }
}
