package io.sn11.engine.eval;

import java.util.List;
import java.util.Map;

/** What one evaluation measured, with everything needed to reproduce it. Serialisable by Jackson. */
public record EvalResult(
        String model,
        double evalScore,
        double creativity,
        double latencyMs,
        long modelSizeBytes,
        int samples,
        int scoredTokens,
        List<String> sampleIds,
        String chatTemplate,
        String datasetVersion,
        String engineVersion,
        String backend,
        Map<String, Object> backendSettings) {}
