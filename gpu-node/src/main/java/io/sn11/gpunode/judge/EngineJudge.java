package io.sn11.gpunode.judge;

import io.sn11.cluster.domain.JudgeIdentity;
import io.sn11.engine.EngineVersion;
import io.sn11.engine.GenerationOptions;
import io.sn11.engine.Generator;
import io.sn11.engine.Transformer;
import io.sn11.engine.backend.Backend;
import io.sn11.engine.backend.Backends;
import io.sn11.engine.json.JsonConstraint;
import io.sn11.engine.tokenizer.ChatTemplate;
import io.sn11.engine.tokenizer.Message;
import io.sn11.engine.tokenizer.Tokenizer;
import io.sn11.gpunode.judge.Judgement.FailureKind;
import io.sn11.gpunode.store.Precheck;
import io.sn11.gpunode.store.PrecheckResult;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.DoubleConsumer;

/**
 * The {@code engine} judge: a chat model of the operator's, loaded once on the node's backend and kept resident,
 * prompted with {@link JudgePrompt} in the model's chat template and generating at temperature 0 under the verdict's
 * {@link JsonConstraint}: every verdict it completes is schema-valid, whatever its weights, and the same comparisons
 * give the same verdicts. Comparisons are judged {@code batch-size} at a time, one batched generation each; the
 * evaluations of the node's slots share the model one batch at a time (its workspace is single-use).
 */
public final class EngineJudge implements Judge {
    /** Loads the judge model a setting names: from the model store (fetched when missing) or an operator's folder. */
    @FunctionalInterface
    public interface Loader {
        /** Throws {@link IllegalStateException} with the reason when the model cannot be a judge (operator error). */
        Judge load(JudgeSettings.EngineModel model);
    }

    public static final String KIND = "engine";

    private final String name;
    private final JudgeIdentity identity;
    private final Backend backend;
    private final Transformer model;
    private final Tokenizer tokenizer;
    private final ChatTemplate template;
    private final GenerationOptions generation;
    /** The longest prompt that leaves room for a whole verdict in the model's context. */
    private final int maxPromptTokens;
    private final ReentrantLock oneBatchAtATime = new ReentrantLock();
    /** Guarded by the lock: once closed (the node stops), batches fail instead of touching freed weights. */
    private boolean closed;

    private EngineJudge(String modelName, String contentHash, Backend backend, Transformer model, Tokenizer tokenizer,
                        ChatTemplate template, GenerationOptions generation) {
        this.name = KIND + "[" + modelName + "]";
        this.identity = new JudgeIdentity(KIND, modelName, contentHash, EngineVersion.VERSION);
        this.backend = backend;
        this.model = model;
        this.tokenizer = tokenizer;
        this.template = template;
        this.generation = generation;
        this.maxPromptTokens = contextLength(model) - generation.maxNewTokens();
    }

    /** The positions a sequence of {@code model} may take: its context, or its sliding window when smaller. */
    private static int contextLength(Transformer model) {
        int window = model.config().slidingWindow();
        return window > 0 ? Math.min(window, model.config().maxPositionEmbeddings()) : model.config().maxPositionEmbeddings();
    }

    /**
     * Loads the judge model in {@code dir} on a new backend ({@code backendName}, {@code threads} as
     * {@link Backends#create}); {@code modelName} names it in the identity.
     *
     * @throws IllegalStateException naming the folder and the reason when it cannot be a judge
     */
    public static EngineJudge load(Path dir, String modelName, JudgeSettings.EngineModel settings, String backendName,
                                   int threads) {
        String problem = "the judge model " + modelName + " (" + dir + ") cannot be used: ";
        PrecheckResult files = new Precheck().check(dir, settings.chatTemplate(), Long.MAX_VALUE);
        if (!files.passed()) throw new IllegalStateException(problem + files.reason());
        Backend backend = Backends.create(backendName, threads);
        Transformer model = null;
        Tokenizer tokenizer = null;
        try {
            model = Transformer.load(dir, backend);
            tokenizer = Tokenizer.load(dir);
            JsonConstraint verdicts = JsonConstraint.build(JudgePrompt.VERDICT, tokenizer.vocabulary());
            GenerationOptions generation = new GenerationOptions(settings.maxNewTokens(), 0, 0, settings.batchSize(), verdicts);
            if (contextLength(model) <= settings.maxNewTokens()) {
                throw new IllegalArgumentException("its context of " + contextLength(model) + " tokens holds no prompt beside a verdict of "
                        + settings.maxNewTokens() + " (sn11.judge.model.max-new-tokens)");
            }
            return new EngineJudge(modelName, files.contentHash(), backend, model, tokenizer,
                    ChatTemplate.byName(settings.chatTemplate()), generation);
        } catch (IOException | RuntimeException e) {
            closeAll(tokenizer, model, backend);
            throw new IllegalStateException(problem + e.getMessage(), e);
        }
    }

    @Override public String name() { return name; }

    @Override public JudgeIdentity identity() { return identity; }

    /** Batches run one at a time: more threads would only wait. */
    @Override public int maxConcurrency() { return 1; }

    /** How many comparisons one batched generation judges. */
    public int batchSize() { return generation.batchSize(); }

    @Override
    public Judgement judge(Comparison comparison) {
        return batch(List.of(comparison)).judgements().get(0);
    }

    @Override
    public List<Judgement> judgeAll(List<Comparison> comparisons, DoubleConsumer progress) {
        return judgeAll(comparisons, progress, new Figures[1]);
    }

    /** What one call generated: for the bench's tokens per second. */
    public record Figures(int promptTokens, int generatedTokens, long nanos) {}

    /** As {@link #judgeAll(List, DoubleConsumer)}, adding up what the generation took into {@code figures[0]}. */
    public List<Judgement> judgeAll(List<Comparison> comparisons, DoubleConsumer progress, Figures[] figures) {
        List<Judgement> out = new ArrayList<>();
        Figures total = new Figures(0, 0, 0);
        for (int from = 0; from < comparisons.size(); from += batchSize()) {
            Batch b = batch(comparisons.subList(from, Math.min(comparisons.size(), from + batchSize())));
            out.addAll(b.judgements());
            total = new Figures(total.promptTokens() + b.figures().promptTokens(),
                    total.generatedTokens() + b.figures().generatedTokens(), total.nanos() + b.figures().nanos());
            progress.accept((double) out.size() / comparisons.size());
        }
        figures[0] = total;
        return out;
    }

    private record Batch(List<Judgement> judgements, Figures figures) {}

    /**
     * One batched generation, the model held for its duration; an engine failure fails the batch as the judge's. A
     * prompt the judge's context cannot hold with a verdict is not cut (the judge would not see the whole material): its
     * comparison fails as the judge's.
     */
    private Batch batch(List<Comparison> comparisons) {
        oneBatchAtATime.lock();
        try {
            if (closed) return failed(comparisons.size(), "the judge is closed: the node is stopping");
            return generate(comparisons);
        } catch (RuntimeException e) {
            return failed(comparisons.size(), "the judge model failed: " + e);
        } finally {
            oneBatchAtATime.unlock();
        }
    }

    private static Batch failed(int count, String reason) {
        return new Batch(Collections.nCopies(count, new Judgement.Failed(FailureKind.JUDGE_UNAVAILABLE, reason)), new Figures(0, 0, 0));
    }

    /** Under the lock: the prompts that fit, generated in one batch. */
    private Batch generate(List<Comparison> comparisons) {
        Judgement[] out = new Judgement[comparisons.size()];
        List<Integer> fitting = new ArrayList<>();
        List<List<Message>> prompts = new ArrayList<>();
        for (int i = 0; i < comparisons.size(); i++) {
            List<Message> prompt = JudgePrompt.render(comparisons.get(i));
            int tokens = tokenizer.encodePrompt(template.generationPrompt(prompt)).length;
            if (tokens > maxPromptTokens) {
                out[i] = new Judgement.Failed(FailureKind.JUDGE_UNAVAILABLE, "the judge prompt takes " + tokens
                        + " tokens, more than the " + maxPromptTokens + " the judge model's context leaves beside a verdict");
            } else {
                fitting.add(i);
                prompts.add(prompt);
            }
        }
        if (prompts.isEmpty()) return new Batch(List.of(out), new Figures(0, 0, 0));
        Generator.Result generated = Generator.replies(model, tokenizer, template, prompts, generation);
        for (int k = 0; k < fitting.size(); k++) out[fitting.get(k)] = verdict(generated.replies().get(k));
        return new Batch(List.of(out), new Figures(generated.promptTokens(), generated.generatedTokens(), generated.nanos()));
    }

    private Judgement verdict(Generator.Reply reply) {
        try {
            return new Judgement.Valid(JudgePrompt.parseVerdict(reply.text()), name);
        } catch (JudgePrompt.InvalidVerdictException e) {
            // the constraint makes this unreachable: every prompt leaves room for a whole verdict
            return new Judgement.Failed(FailureKind.JUDGE_INVALID_ANSWER, "invalid verdict (" + reply.finish() + "): " + e.getMessage());
        }
    }

    @Override
    public void close() {
        oneBatchAtATime.lock();
        try {
            if (closed) return;
            closed = true;
            closeAll(tokenizer, model, backend);
        } finally {
            oneBatchAtATime.unlock();
        }
    }

    private static void closeAll(Tokenizer tokenizer, Transformer model, Backend backend) {
        try {
            if (tokenizer != null) tokenizer.close();
            if (model != null) model.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            backend.close();
        }
    }
}
