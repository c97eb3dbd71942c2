package io.sn11.cluster.scoring;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;

/**
 * Every constant of the scoring rules, read once from HOCON path {@code sn11.scoring}
 * (defaults in the cluster module's reference.conf). The record refuses out-of-range values,
 * so a mistyped operator setting stops the node at startup instead of skewing weights quietly.
 */
public record ScoringSettings(
        double laterSubmissionFactor,
        double softmaxTemperature,
        double emaNewWeight,
        long maxModelBytes,
        double latencyFullScaleMs,
        TotalScoreRule totalScoreRule,
        double qualitativeWeight,
        double latencyWeight,
        double coherenceMinimum,
        double judgeBonusThreshold,
        double judgeBonusFactor,
        double creativityThreshold,
        double creativitySteepness,
        double maxFailedJudgementFraction) {

    public static final String CONFIG_PATH = "sn11.scoring";

    public ScoringSettings {
        // Comparisons are written so that NaN fails them too.
        require(laterSubmissionFactor > 0 && laterSubmissionFactor <= 1, "later-submission-factor", "must be in (0, 1]");
        require(softmaxTemperature > 0 && Double.isFinite(softmaxTemperature), "softmax-temperature", "must be > 0");
        require(emaNewWeight > 0 && emaNewWeight <= 1, "ema-new-weight", "must be in (0, 1]");
        require(maxModelBytes > 0, "max-model-bytes", "must be > 0");
        require(latencyFullScaleMs > 0 && Double.isFinite(latencyFullScaleMs), "latency-full-scale-ms", "must be > 0");
        require(totalScoreRule != null, "total-score-rule", "must be judge or composite");
        require(qualitativeWeight >= 0 && Double.isFinite(qualitativeWeight), "qualitative-weight", "must be >= 0");
        require(latencyWeight >= 0 && Double.isFinite(latencyWeight), "latency-weight", "must be >= 0");
        require(coherenceMinimum >= 0 && coherenceMinimum <= 1, "coherence-minimum", "must be in [0, 1]");
        require(judgeBonusThreshold >= 0 && judgeBonusThreshold <= 1, "judge-bonus-threshold", "must be in [0, 1]");
        require(judgeBonusFactor > 0 && Double.isFinite(judgeBonusFactor), "judge-bonus-factor", "must be > 0");
        require(creativityThreshold >= 0 && creativityThreshold <= 1, "creativity-threshold", "must be in [0, 1]");
        require(creativitySteepness > 0 && Double.isFinite(creativitySteepness), "creativity-steepness", "must be > 0");
        require(maxFailedJudgementFraction >= 0 && maxFailedJudgementFraction <= 1,
                "max-failed-judgement-fraction", "must be in [0, 1]");
    }

    /**
     * Reads {@code sn11.scoring} from {@code root}. Keys missing there fall back to the
     * reference.conf defaults, so a config that sets only one key is still complete.
     *
     * @throws IllegalArgumentException naming the key when a value is missing, of the wrong type or out of range
     */
    public static ScoringSettings fromConfig(Config root) {
        Config scoring = root.withFallback(ConfigFactory.defaultReference()).resolve().getConfig(CONFIG_PATH);
        return new ScoringSettings(
                readDouble(scoring, "later-submission-factor"),
                readDouble(scoring, "softmax-temperature"),
                readDouble(scoring, "ema-new-weight"),
                readBytes(scoring, "max-model-bytes"),
                readDouble(scoring, "latency-full-scale-ms"),
                readRule(scoring, "total-score-rule"),
                readDouble(scoring, "qualitative-weight"),
                readDouble(scoring, "latency-weight"),
                readDouble(scoring, "coherence-minimum"),
                readDouble(scoring, "judge-bonus-threshold"),
                readDouble(scoring, "judge-bonus-factor"),
                readDouble(scoring, "creativity-threshold"),
                readDouble(scoring, "creativity-steepness"),
                readDouble(scoring, "max-failed-judgement-fraction"));
    }

    /**
     * The settings that shape one model's score, by their key, for the gpu-node's scoring fingerprint. Left out are
     * those applied after the score, by the coordinator, to all models at once (later-submission-factor,
     * softmax-temperature, ema-new-weight): the same on every node's scores.
     */
    public java.util.SortedMap<String, String> scoreShaping() {
        java.util.SortedMap<String, String> shaping = new java.util.TreeMap<>();
        shaping.put("max-model-bytes", Long.toString(maxModelBytes));
        shaping.put("latency-full-scale-ms", Double.toString(latencyFullScaleMs));
        shaping.put("total-score-rule", totalScoreRule.name().toLowerCase(java.util.Locale.ROOT));
        shaping.put("qualitative-weight", Double.toString(qualitativeWeight));
        shaping.put("latency-weight", Double.toString(latencyWeight));
        shaping.put("coherence-minimum", Double.toString(coherenceMinimum));
        shaping.put("judge-bonus-threshold", Double.toString(judgeBonusThreshold));
        shaping.put("judge-bonus-factor", Double.toString(judgeBonusFactor));
        shaping.put("creativity-threshold", Double.toString(creativityThreshold));
        shaping.put("creativity-steepness", Double.toString(creativitySteepness));
        shaping.put("max-failed-judgement-fraction", Double.toString(maxFailedJudgementFraction));
        return shaping;
    }

    /** The settings of {@code ConfigFactory.load()}: application.conf over reference.conf. */
    public static ScoringSettings defaults() {
        return fromConfig(ConfigFactory.load());
    }

    private static double readDouble(Config scoring, String key) {
        try {
            return scoring.getDouble(key);
        } catch (ConfigException e) {
            throw badValue(key, e);
        }
    }

    /** Accepts a plain number of bytes or a HOCON size such as "72 GiB". */
    private static long readBytes(Config scoring, String key) {
        try {
            return scoring.getBytes(key);
        } catch (ConfigException e) {
            throw badValue(key, e);
        }
    }

    private static TotalScoreRule readRule(Config scoring, String key) {
        try {
            return TotalScoreRule.fromConfigValue(scoring.getString(key));
        } catch (ConfigException | IllegalArgumentException e) {
            throw badValue(key, e);
        }
    }

    private static IllegalArgumentException badValue(String key, Exception cause) {
        return new IllegalArgumentException(CONFIG_PATH + "." + key + ": " + cause.getMessage(), cause);
    }

    private static void require(boolean valid, String key, String rule) {
        if (!valid) {
            throw new IllegalArgumentException(CONFIG_PATH + "." + key + " " + rule);
        }
    }
}
