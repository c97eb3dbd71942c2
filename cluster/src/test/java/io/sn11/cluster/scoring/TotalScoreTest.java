package io.sn11.cluster.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

class TotalScoreTest {

    private static final double EPS = 1e-12;
    private static final ScoringSettings JUDGE = ScoringSettings.defaults();
    private static final ScoringSettings COMPOSITE = ScoringSettings.fromConfig(
            ConfigFactory.parseString("sn11.scoring.total-score-rule = composite").withFallback(ConfigFactory.load()));
    private static final long GIB = 1024L * 1024 * 1024;

    @Test
    void judgeRuleIsTheJudgeScore() {
        assertEquals(0.6, TotalScore.of(new ScoreInputs(0.1, 0.2, 0.3, 0.4, 0.6), JUDGE));
    }

    @Test
    void judgeRuleWithoutJudgeIsNotScoredYet() {
        assertNull(TotalScore.of(new ScoreInputs(0.8, 0.5, 0.5, 0.99, null), JUDGE));
    }

    @Test
    void compositeAtCreativityThreshold() {
        // creativity 0.5 = threshold: gate 1 / (1 + e^0) = 0.5; adjusted 0.8 * 0.5 = 0.4
        // total 0.84 * 0.4 + 0.16 * 0.5 = 0.336 + 0.08 = 0.416
        assertEquals(0.416, TotalScore.of(new ScoreInputs(0.8, 0.5, 0.5, 0.96, null), COMPOSITE), EPS);
    }

    @Test
    void compositeAboveCreativityThreshold() {
        // gate 1 / (1 + e^(-8 * 0.25)) = 1 / (1 + e^-2) = 1 / 1.1353352832366127 = 0.8807970779778823
        // total 0.84 * 1.0 * 0.8807970779778823 + 0.16 * 0.25 = 0.7398695455014211 + 0.04 = 0.7798695455014211
        assertEquals(0.7798695455014211, TotalScore.of(new ScoreInputs(1.0, 0.75, 0.25, 0.95, null), COMPOSITE), EPS);
    }

    @Test
    void compositeBelowCreativityThreshold() {
        // gate 1 / (1 + e^(-8 * -0.25)) = 1 / (1 + e^2) = 0.11920292202211755
        // total 0.84 * 0.9 * 0.11920292202211755 + 0.16 * 0.5 = 0.0901174090487209 + 0.08 = 0.1701174090487209
        assertEquals(0.1701174090487209, TotalScore.of(new ScoreInputs(0.9, 0.25, 0.5, 0.99, null), COMPOSITE), EPS);
    }

    @Test
    void compositeIsZeroBelowCoherenceMinimum() {
        // 0.94 < 0.95: zero, and the judge bonus cannot lift it.
        assertEquals(0.0, TotalScore.of(new ScoreInputs(0.8, 0.5, 0.5, 0.94, 0.9), COMPOSITE));
    }

    @Test
    void compositeAtCoherenceMinimumIsKept() {
        // 0.95 is not below 0.95: 0.416 as in compositeAtCreativityThreshold
        assertEquals(0.416, TotalScore.of(new ScoreInputs(0.8, 0.5, 0.5, 0.95, null), COMPOSITE), EPS);
    }

    @Test
    void judgeBonusAboveThreshold() {
        // judge 0.5 > 0.45: 0.416 * 1.5 = 0.624
        assertEquals(0.624, TotalScore.of(new ScoreInputs(0.8, 0.5, 0.5, 0.96, 0.5), COMPOSITE), EPS);
    }

    @Test
    void noJudgeBonusAtThreshold() {
        // judge 0.45 is not > 0.45: 0.416 unchanged
        assertEquals(0.416, TotalScore.of(new ScoreInputs(0.8, 0.5, 0.5, 0.96, 0.45), COMPOSITE), EPS);
    }

    @Test
    void compositeWithAnyMeasurementMissingIsNull() {
        assertNull(TotalScore.of(new ScoreInputs(null, 0.5, 0.5, 0.96, 0.5), COMPOSITE));
        assertNull(TotalScore.of(new ScoreInputs(0.8, null, 0.5, 0.96, 0.5), COMPOSITE));
        assertNull(TotalScore.of(new ScoreInputs(0.8, 0.5, null, 0.96, 0.5), COMPOSITE));
        assertNull(TotalScore.of(new ScoreInputs(0.8, 0.5, 0.5, null, 0.5), COMPOSITE));
    }

    @Test
    void latencyScoreIsLinearAndClamped() {
        assertEquals(0.75, TotalScore.latencyScore(2500, JUDGE), EPS);   // 1 - 2500 / 10000
        assertEquals(1.0, TotalScore.latencyScore(0, JUDGE), EPS);
        assertEquals(0.0, TotalScore.latencyScore(10000, JUDGE), EPS);
        assertEquals(0.0, TotalScore.latencyScore(12000, JUDGE), EPS);  // 1 - 1.2 = -0.2 -> 0
        assertEquals(1.0, TotalScore.latencyScore(-5, JUDGE), EPS);     // 1.0005 -> 1
        assertThrows(IllegalArgumentException.class, () -> TotalScore.latencyScore(Double.NaN, JUDGE));
    }

    @Test
    void modelSizeScoreIsLinearAndClamped() {
        assertEquals(0.75, TotalScore.modelSizeScore(18 * GIB, JUDGE), EPS); // 1 - 18 / 72
        assertEquals(1.0, TotalScore.modelSizeScore(0, JUDGE), EPS);
        assertEquals(0.0, TotalScore.modelSizeScore(72 * GIB, JUDGE), EPS);
        assertEquals(0.0, TotalScore.modelSizeScore(80 * GIB, JUDGE), EPS); // 1 - 80 / 72 < 0 -> 0
        assertThrows(IllegalArgumentException.class, () -> TotalScore.modelSizeScore(-1, JUDGE));
    }
}
