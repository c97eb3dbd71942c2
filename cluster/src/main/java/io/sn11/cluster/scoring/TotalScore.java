package io.sn11.cluster.scoring;

/** The total score miners are ranked by, and the 0..1 scores derived from raw measurements. */
public final class TotalScore {

    private TotalScore() {
    }

    /** The total under {@code settings.totalScoreRule()}, or null while an input it needs is missing. */
    public static Double of(ScoreInputs inputs, ScoringSettings settings) {
        return switch (settings.totalScoreRule()) {
            case JUDGE -> inputs.judgeScore();
            case COMPOSITE -> composite(inputs, settings);
        };
    }

    private static Double composite(ScoreInputs inputs, ScoringSettings s) {
        if (inputs.evalScore() == null || inputs.creativity() == null
                || inputs.latencyScore() == null || inputs.coherence() == null) {
            return null;
        }
        // An incoherent model scores nothing, however fluent or fast.
        if (inputs.coherence() < s.coherenceMinimum()) {
            return 0.0;
        }
        // Logistic gate: a model with creativity well below the threshold keeps little of its eval score.
        double creativityGate = 1 / (1 + Math.exp(-s.creativitySteepness() * (inputs.creativity() - s.creativityThreshold())));
        double adjustedEval = inputs.evalScore() * creativityGate;
        double total = s.qualitativeWeight() * adjustedEval + s.latencyWeight() * inputs.latencyScore();
        if (inputs.judgeScore() != null && inputs.judgeScore() > s.judgeBonusThreshold()) {
            total *= s.judgeBonusFactor();
        }
        return total;
    }

    /** 1 - ms / latencyFullScaleMs, clamped to [0, 1]: instant is 1, full scale or slower is 0. */
    public static double latencyScore(double meanForwardLatencyMs, ScoringSettings s) {
        if (Double.isNaN(meanForwardLatencyMs)) {
            throw new IllegalArgumentException("mean forward latency is NaN");
        }
        return clampToUnit(1 - meanForwardLatencyMs / s.latencyFullScaleMs());
    }

    /** 1 - bytes / maxModelBytes, clamped to [0, 1]: smaller models score higher. */
    public static double modelSizeScore(long bytes, ScoringSettings s) {
        if (bytes < 0) {
            throw new IllegalArgumentException("model size must be >= 0 bytes, was " + bytes);
        }
        return clampToUnit(1 - (double) bytes / s.maxModelBytes());
    }

    private static double clampToUnit(double value) {
        return Math.max(0.0, Math.min(1.0, value));
    }
}
