package io.sn11.gpunode.judge;

import io.sn11.cluster.domain.JudgeIdentity;
import java.util.Map;

/** Compares a generated reply with the original on realism, entertainment and coherency. Thread-safe. */
public interface Judge {
    /** Names the judge in results, e.g. {@code offline-heuristic-v1} or the providers and models asked. */
    String name();

    /** Who this judge is, for the verdicts it gives and the node's scoring fingerprint. */
    JudgeIdentity identity();

    /** How many comparisons it is useful to run at once. */
    int maxConcurrency();

    /** Blocks until a verdict or a failure; never throws for a judge-side problem. */
    Judgement judge(Comparison comparison);

    /** The judge the settings describe; API keys are read from {@code env} by the variable names the settings give. */
    static Judge create(JudgeSettings settings, Map<String, String> env) {
        return switch (settings.kind()) {
            case OFFLINE -> new OfflineJudge();
            case API -> new ChatCompletionsJudge(settings, env);
        };
    }
}
