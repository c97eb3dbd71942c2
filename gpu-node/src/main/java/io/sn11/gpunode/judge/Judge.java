package io.sn11.gpunode.judge;

import io.sn11.cluster.domain.JudgeIdentity;
import io.sn11.gpunode.judge.Judgement.FailureKind;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.DoubleConsumer;

/**
 * Compares a generated reply with the original on realism, entertainment and coherency. Thread-safe. A node makes one
 * at its start and shares it across its evaluations; it is closed when the node stops.
 */
public interface Judge extends AutoCloseable {
    /** Names the judge in results, e.g. {@code offline-heuristic-v1} or the providers and models asked. */
    String name();

    /** Who this judge is, for the verdicts it gives and the node's scoring fingerprint. */
    JudgeIdentity identity();

    /** How many comparisons it is useful to run at once. */
    int maxConcurrency();

    /** Blocks until a verdict or a failure; never throws for a judge-side problem. */
    Judgement judge(Comparison comparison);

    /**
     * The judgements of many comparisons, in their order; {@code progress} receives the fraction done. This default
     * runs {@link #judge} on up to {@link #maxConcurrency()} threads; a judge that batches (the engine judge) does
     * better. A judge that throws counts as a judge that could not answer.
     */
    default List<Judgement> judgeAll(List<Comparison> comparisons, DoubleConsumer progress) throws InterruptedException {
        if (comparisons.isEmpty()) return List.of();
        Judgement[] out = new Judgement[comparisons.size()];
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(maxConcurrency(), comparisons.size()));
        try {
            CompletionService<Integer> done = new ExecutorCompletionService<>(pool);
            for (int i = 0; i < comparisons.size(); i++) {
                int index = i;
                Comparison c = comparisons.get(i);
                done.submit(() -> {
                    out[index] = judgeSafely(this, c);
                    return index;
                });
            }
            for (int finished = 1; finished <= comparisons.size(); finished++) {
                Future<Integer> f = done.take();
                try {
                    f.get();
                } catch (ExecutionException e) {
                    throw new IllegalStateException("judging failed unexpectedly", e.getCause());
                }
                progress.accept((double) finished / comparisons.size());
            }
        } finally {
            pool.shutdownNow();
        }
        return List.of(out);
    }

    /** Releases what the judge holds (a judge model's weights); the judges without resources hold nothing. */
    @Override
    default void close() {}

    /** A judge that throws is a judge that could not give an answer. */
    private static Judgement judgeSafely(Judge judge, Comparison c) {
        try {
            return judge.judge(c);
        } catch (RuntimeException e) {
            return new Judgement.Failed(FailureKind.JUDGE_UNAVAILABLE, "the judge failed: " + e);
        }
    }

    /**
     * The judge the settings describe; API keys are read from {@code env} by the variable names the settings give; the
     * engine kind's model is loaded by {@code engineJudges} (it needs the node's model store and backend).
     */
    static Judge create(JudgeSettings settings, Map<String, String> env, EngineJudge.Loader engineJudges) {
        return switch (settings.kind()) {
            case OFFLINE -> new OfflineJudge();
            case API -> new ChatCompletionsJudge(settings, env);
            case ENGINE -> engineJudges.load(settings.engine());
        };
    }
}
