package io.sn11.cluster.scoring;

import static io.sn11.cluster.scoring.JudgeTally.Side.GENERATED;
import static io.sn11.cluster.scoring.JudgeTally.Side.ORIGINAL;
import static io.sn11.cluster.scoring.JudgeTally.Side.TIE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sn11.cluster.scoring.JudgeTally.Result;
import io.sn11.cluster.scoring.JudgeTally.Verdict;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class JudgeTallyTest {

    private static final double MAX_FAILED = 0.10;
    private static final double EPS = 1e-12;

    private static Optional<Verdict> verdict(JudgeTally.Side realism, JudgeTally.Side entertainment, JudgeTally.Side coherency) {
        return Optional.of(new Verdict(realism, entertainment, coherency));
    }

    /** {@code valid} verdicts that each give the generated turn one win, then {@code failed} failures. */
    private static List<Optional<Verdict>> judgements(int valid, int failed) {
        List<Optional<Verdict>> judgements = new ArrayList<>();
        for (int i = 0; i < valid; i++) {
            judgements.add(verdict(GENERATED, ORIGINAL, TIE));
        }
        for (int i = 0; i < failed; i++) {
            judgements.add(Optional.empty());
        }
        return judgements;
    }

    @Test
    void scoreIsGeneratedWinsOverThreeTimesValidVerdicts() {
        // wins: 2 + 1 + 0 + 3 = 6; ties and original wins count nothing; 6 / (3 * 4) = 0.5
        Result result = JudgeTally.tally(List.of(
                verdict(GENERATED, GENERATED, ORIGINAL),
                verdict(TIE, GENERATED, ORIGINAL),
                verdict(ORIGINAL, TIE, ORIGINAL),
                verdict(GENERATED, GENERATED, GENERATED)), MAX_FAILED);
        assertEquals(0.5, result.score(), EPS);
        assertEquals(4, result.validVerdicts());
        assertEquals(0, result.failed());
        assertEquals(6, result.generatedWins());
        assertFalse(result.failedTooOften());
    }

    @Test
    void failuresAreLeftOutOfTheScore() {
        // 9 valid with 1 win each: 9 / (3 * 9) = 1/3; 1 failed of 10 = exactly 10%: not above, not flagged
        Result result = JudgeTally.tally(judgements(9, 1), MAX_FAILED);
        assertEquals(1.0 / 3, result.score(), EPS);
        assertEquals(9, result.validVerdicts());
        assertEquals(1, result.failed());
        assertEquals(9, result.generatedWins());
        assertFalse(result.failedTooOften());
    }

    @Test
    void moreThanTenPercentFailedIsFlagged() {
        // 2 of 10 = 20% > 10%
        assertTrue(JudgeTally.tally(judgements(8, 2), MAX_FAILED).failedTooOften());
        // 1 of 9 = 11.1% > 10%
        assertTrue(JudgeTally.tally(judgements(8, 1), MAX_FAILED).failedTooOften());
        // 3 of 30 = exactly 10%: not flagged
        assertFalse(JudgeTally.tally(judgements(27, 3), MAX_FAILED).failedTooOften());
    }

    @Test
    void allFailedScoresZeroAndIsFlagged() {
        Result result = JudgeTally.tally(judgements(0, 3), MAX_FAILED);
        assertEquals(0.0, result.score());
        assertEquals(0, result.validVerdicts());
        assertEquals(3, result.failed());
        assertTrue(result.failedTooOften());
    }

    @Test
    void noJudgementsScoreZeroAndAreFlagged() {
        assertEquals(new Result(0.0, 0, 0, 0, true), JudgeTally.tally(List.of(), MAX_FAILED));
    }

    @Test
    void failureRuleAloneAnswersForASubsetOfTheFailures() {
        // 2 of 20 = 10%: not above; 3 of 20 = 15%: above
        assertFalse(JudgeTally.tooManyFailures(2, 20, MAX_FAILED));
        assertTrue(JudgeTally.tooManyFailures(3, 20, MAX_FAILED));
        assertFalse(JudgeTally.tooManyFailures(0, 1, 0.0));
        assertTrue(JudgeTally.tooManyFailures(1, 1, 0.99));
        assertThrows(IllegalArgumentException.class, () -> JudgeTally.tooManyFailures(0, 0, MAX_FAILED));
    }
}
