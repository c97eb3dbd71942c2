package io.sn11.cluster.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class WinRatesTest {

    private static final double LATER = 0.97;
    private static final double NEG_INF = Double.NEGATIVE_INFINITY;

    private static void assertWinRate(WinRate actual, int uid, int wins, double winRate) {
        assertEquals(uid, actual.uid());
        assertEquals(wins, actual.wins(), "wins of uid " + uid);
        assertEquals(winRate, actual.winRate(), 1e-12, "win rate of uid " + uid);
    }

    @Test
    void laterSubmissionPenaltyLetsTheEarlierMinerWin() {
        // uid 2 is later: 0.51 * 0.97 = 0.4947 < 0.50, so uid 1 wins although its raw score is lower.
        List<WinRate> rates = WinRates.compute(List.of(
                new Contestant(1, 100, 0.50, false),
                new Contestant(2, 200, 0.51, false)), LATER);
        assertWinRate(rates.get(0), 1, 1, 1.0);
        assertWinRate(rates.get(1), 2, 0, 0.0);
    }

    @Test
    void laterSubmissionWinsWithAClearImprovement() {
        // 0.52 * 0.97 = 0.5044 > 0.50
        List<WinRate> rates = WinRates.compute(List.of(
                new Contestant(1, 100, 0.50, false),
                new Contestant(2, 200, 0.52, false)), LATER);
        assertWinRate(rates.get(0), 1, 0, 0.0);
        assertWinRate(rates.get(1), 2, 1, 1.0);
    }

    @Test
    void tiesGiveNoWin() {
        // Same block, same score: neither is strictly greater.
        List<WinRate> equal = WinRates.compute(List.of(
                new Contestant(1, 100, 0.5, false),
                new Contestant(2, 100, 0.5, false)), LATER);
        assertWinRate(equal.get(0), 1, 0, 0.0);
        assertWinRate(equal.get(1), 2, 0, 0.0);

        // Tie after the penalty: 1.0 * 0.97 = 0.97 against 0.97.
        List<WinRate> penalisedTie = WinRates.compute(List.of(
                new Contestant(1, 100, 0.97, false),
                new Contestant(2, 200, 1.0, false)), LATER);
        assertWinRate(penalisedTie.get(0), 1, 0, 0.0);
        assertWinRate(penalisedTie.get(1), 2, 0, 0.0);
    }

    @Test
    void equalBlocksGiveNoPenalty() {
        // Both at block 100: 0.51 > 0.50 with no factor applied.
        List<WinRate> rates = WinRates.compute(List.of(
                new Contestant(1, 100, 0.50, false),
                new Contestant(2, 100, 0.51, false)), LATER);
        assertWinRate(rates.get(0), 1, 0, 0.0);
        assertWinRate(rates.get(1), 2, 1, 1.0);
    }

    @Test
    void singleMinerHasFiniteZeroWinRate() {
        List<WinRate> rates = WinRates.compute(List.of(new Contestant(4, 100, 0.7, false)), LATER);
        assertEquals(1, rates.size());
        assertWinRate(rates.get(0), 4, 0, 0.0);
    }

    @Test
    void allInvalidGetMinusInfinity() {
        List<WinRate> rates = WinRates.compute(List.of(
                new Contestant(1, 100, 0.9, true),
                new Contestant(2, 200, 0.8, true),
                new Contestant(3, 300, 0.7, true)), LATER);
        for (WinRate rate : rates) {
            assertEquals(0, rate.wins());
            assertEquals(NEG_INF, rate.winRate());
        }
    }

    @Test
    void zeroScoreGetsMinusInfinityButStillLosesComparisons() {
        // Same block, n = 3. uid 2 beats uid 1 only: 1 / 2. uid 3 beats both: 2 / 2.
        List<WinRate> rates = WinRates.compute(List.of(
                new Contestant(1, 100, 0.0, false),
                new Contestant(2, 100, 0.3, false),
                new Contestant(3, 100, 0.6, false)), LATER);
        assertWinRate(rates.get(0), 1, 0, NEG_INF);
        assertWinRate(rates.get(1), 2, 1, 0.5);
        assertWinRate(rates.get(2), 3, 2, 1.0);
    }

    @Test
    void invalidContestantCountsInNWithScoreZero() {
        // uid 1 is invalid: its 0.9 counts as 0. n = 3, so win rates are wins / 2.
        // uid 2 (block 200) vs uid 1: 0.4 * 0.97 = 0.388 > 0 win; vs uid 3: 0.4 > 0.2 * 0.97 = 0.194 win -> 2 / 2.
        // uid 3 (block 300) vs uid 1: 0.194 > 0 win; vs uid 2: loses -> 1 / 2.
        List<WinRate> rates = WinRates.compute(List.of(
                new Contestant(1, 100, 0.9, true),
                new Contestant(2, 200, 0.4, false),
                new Contestant(3, 300, 0.2, false)), LATER);
        assertWinRate(rates.get(0), 1, 0, NEG_INF);
        assertWinRate(rates.get(1), 2, 2, 1.0);
        assertWinRate(rates.get(2), 3, 1, 0.5);
    }

    @Test
    void nanScoreIsTreatedAsInvalid() {
        // uid 8 compares with 0: uid 9 wins (0.3 > 0), uid 8 gets minus infinity.
        List<WinRate> rates = WinRates.compute(List.of(
                new Contestant(8, 100, Double.NaN, false),
                new Contestant(9, 100, 0.3, false)), LATER);
        assertWinRate(rates.get(0), 8, 0, NEG_INF);
        assertWinRate(rates.get(1), 9, 1, 1.0);
    }

    @Test
    void resultKeepsInputOrder() {
        // Same block: 0.8 > 0.6 > 0.1, so uid 7 wins 2, uid 3 wins 1, uid 5 wins 0.
        List<WinRate> rates = WinRates.compute(List.of(
                new Contestant(7, 100, 0.8, false),
                new Contestant(3, 100, 0.1, false),
                new Contestant(5, 100, 0.6, false)), LATER);
        assertWinRate(rates.get(0), 7, 2, 1.0);
        assertWinRate(rates.get(1), 3, 0, 0.0);
        assertWinRate(rates.get(2), 5, 1, 0.5);
    }

    @Test
    void emptyInputGivesEmptyResult() {
        assertEquals(List.of(), WinRates.compute(List.of(), LATER));
    }

    @Test
    void factorOutsideUnitIntervalIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> WinRates.compute(List.of(), 0.0));
        assertThrows(IllegalArgumentException.class, () -> WinRates.compute(List.of(), 1.5));
    }
}
