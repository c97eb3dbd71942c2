package io.sn11.cluster.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MovingAverageTest {

    private static final double ALPHA = 0.1;
    private static final double EPS = 1e-12;

    @Test
    void foldsNinetyTen() {
        // uid 1: 0.9 * 0.5 + 0.1 * 1.0 = 0.55; uid 2: 0.9 * 0.5 + 0.1 * 0.0 = 0.45
        Map<Integer, Double> folded = MovingAverage.fold(Map.of(1, 0.5, 2, 0.5), Map.of(1, 1.0, 2, 0.0), ALPHA);
        assertEquals(0.55, folded.get(1), EPS);
        assertEquals(0.45, folded.get(2), EPS);
    }

    @Test
    void newUidStartsFromZero() {
        // uid 1: 0.9 * 1.0 + 0.1 * 0.2 = 0.92; uid 3 (new): 0.9 * 0 + 0.1 * 0.8 = 0.08
        Map<Integer, Double> folded = MovingAverage.fold(Map.of(1, 1.0), Map.of(1, 0.2, 3, 0.8), ALPHA);
        assertEquals(0.92, folded.get(1), EPS);
        assertEquals(0.08, folded.get(3), EPS);
    }

    @Test
    void droppedUidDecays() {
        // uid 4 absent from the step: 0.9 * 0.5 = 0.45, then 0.9 * 0.45 = 0.405
        Map<Integer, Double> once = MovingAverage.fold(Map.of(4, 0.5), Map.of(), ALPHA);
        assertEquals(0.45, once.get(4), EPS);
        Map<Integer, Double> twice = MovingAverage.fold(once, Map.of(), ALPHA);
        assertEquals(0.405, twice.get(4), EPS);
    }

    @Test
    void nanAndInfinityBecomeZero() {
        // 0.9 * NaN + 0.1 * 0.5 = NaN -> 0; 0.9 * inf + 0.1 * 0.2 = inf -> 0; uid 3: 0.9 * 0.3 + 0.1 * NaN -> 0
        Map<Integer, Double> folded = MovingAverage.fold(
                Map.of(1, Double.NaN, 2, Double.POSITIVE_INFINITY, 3, 0.3),
                Map.of(1, 0.5, 2, 0.2, 3, Double.NaN), ALPHA);
        assertEquals(Map.of(1, 0.0, 2, 0.0, 3, 0.0), folded);
    }

    @Test
    void resultIsSortedByUid() {
        Map<Integer, Double> folded = MovingAverage.fold(Map.of(7, 0.1, 1, 0.1), Map.of(3, 0.1), ALPHA);
        assertEquals(List.of(1, 3, 7), List.copyOf(folded.keySet()));
    }

    @Test
    void alphaOutsideUnitIntervalIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> MovingAverage.fold(Map.of(), Map.of(), 1.1));
    }
}
