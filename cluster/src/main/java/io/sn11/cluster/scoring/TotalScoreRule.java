package io.sn11.cluster.scoring;

/** Which formula turns the measured scores into the total score miners are ranked by. */
public enum TotalScoreRule {
    /** Current subnet rule: the total score is the judge score. */
    JUDGE,
    /** Older subnet rule: creativity-adjusted eval score and latency, coherence gate, judge bonus. */
    COMPOSITE;

    /** Parses the HOCON spelling ("judge" or "composite", any case). */
    public static TotalScoreRule fromConfigValue(String value) {
        for (TotalScoreRule rule : values()) {
            if (rule.name().equalsIgnoreCase(value.trim())) {
                return rule;
            }
        }
        throw new IllegalArgumentException("unknown total score rule '" + value + "' (expected judge or composite)");
    }
}
