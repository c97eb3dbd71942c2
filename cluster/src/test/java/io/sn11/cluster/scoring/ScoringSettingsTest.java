package io.sn11.cluster.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

class ScoringSettingsTest {

    private static ScoringSettings withOverride(String hocon) {
        return ScoringSettings.fromConfig(ConfigFactory.parseString(hocon).withFallback(ConfigFactory.load()));
    }

    private static void assertRejected(String hocon, String expectedMessagePart) {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> withOverride(hocon));
        assertTrue(error.getMessage().contains(expectedMessagePart), error.getMessage());
    }

    @Test
    void defaultsAreTheSubnetConstants() {
        ScoringSettings expected = new ScoringSettings(
                0.97, 0.075, 0.1,
                77_309_411_328L, // 72 GiB = 72 * 1024^3 = 72 * 1_073_741_824
                10_000, TotalScoreRule.JUDGE,
                0.84, 0.16, 0.95, 0.45, 1.5, 0.5, 8, 0.10);
        assertEquals(expected, ScoringSettings.defaults());
    }

    @Test
    void overrideTakesEffect() {
        ScoringSettings settings = withOverride(
                "sn11.scoring { softmax-temperature = 0.5, total-score-rule = composite, max-model-bytes = 10 GiB }");
        assertEquals(0.5, settings.softmaxTemperature());
        assertEquals(TotalScoreRule.COMPOSITE, settings.totalScoreRule());
        assertEquals(10_737_418_240L, settings.maxModelBytes()); // 10 * 1024^3
        assertEquals(0.97, settings.laterSubmissionFactor()); // untouched keys keep their defaults
    }

    @Test
    void partialConfigFallsBackToReferenceDefaults() {
        ScoringSettings settings = ScoringSettings.fromConfig(ConfigFactory.parseString("sn11.scoring.ema-new-weight = 0.2"));
        assertEquals(0.2, settings.emaNewWeight());
        assertEquals(0.075, settings.softmaxTemperature());
    }

    @Test
    void invalidValuesAreRejectedNamingTheKey() {
        assertRejected("sn11.scoring.softmax-temperature = 0", "sn11.scoring.softmax-temperature must be > 0");
        assertRejected("sn11.scoring.later-submission-factor = 1.5", "sn11.scoring.later-submission-factor must be in (0, 1]");
        assertRejected("sn11.scoring.ema-new-weight = 0", "sn11.scoring.ema-new-weight must be in (0, 1]");
        assertRejected("sn11.scoring.max-model-bytes = 0", "sn11.scoring.max-model-bytes must be > 0");
        assertRejected("sn11.scoring.max-failed-judgement-fraction = 1.2", "sn11.scoring.max-failed-judgement-fraction");
        assertRejected("sn11.scoring.latency-weight = -0.1", "sn11.scoring.latency-weight");
    }

    @Test
    void unknownRuleIsRejectedNamingTheKey() {
        assertRejected("sn11.scoring.total-score-rule = best", "sn11.scoring.total-score-rule");
    }

    @Test
    void wrongTypeIsRejectedNamingTheKey() {
        assertRejected("sn11.scoring.creativity-steepness = steep", "sn11.scoring.creativity-steepness");
    }

    @Test
    void ruleIsReadInAnyCase() {
        assertEquals(TotalScoreRule.COMPOSITE, withOverride("sn11.scoring.total-score-rule = COMPOSITE").totalScoreRule());
    }
}
