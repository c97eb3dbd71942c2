package io.sn11.cluster.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WeightsTest {

    private static final double T = 0.075;
    private static final double EPS = 1e-12;
    private static final double NEG_INF = Double.NEGATIVE_INFINITY;

    private static Map<Integer, Double> mapOf(int k1, double v1, int k2, double v2) {
        Map<Integer, Double> map = new LinkedHashMap<>();
        map.put(k1, v1);
        map.put(k2, v2);
        return map;
    }

    @Test
    void softmaxOfTwoWinRates() {
        // exponents: (1.0 - 1.0) / 0.075 = 0 and (0.5 - 1.0) / 0.075 = -6.6667; e^-6.6667 = 0.0012726338013398
        // w1 = 1 / 1.0012726338013398 = 0.9987289837369187, w2 = 0.0012726338013398 / 1.0012726... = 0.0012710162630814
        // ratio w1 / w2 = e^6.6667 = 785.7719942274
        Map<Integer, Double> weights = Weights.softmax(List.of(new WinRate(1, 2, 1.0), new WinRate(2, 1, 0.5)), T);
        assertEquals(0.9987289837369187, weights.get(1), EPS);
        assertEquals(0.0012710162630814, weights.get(2), EPS);
        assertEquals(785.7719942274, weights.get(1) / weights.get(2), 1e-6);
    }

    @Test
    void minusInfinityGetsZero() {
        // Two equal finite rates share the weight: 0.5 each.
        Map<Integer, Double> weights = Weights.softmax(List.of(
                new WinRate(1, 1, 0.5), new WinRate(2, 0, NEG_INF), new WinRate(3, 1, 0.5)), T);
        assertEquals(0.5, weights.get(1), EPS);
        assertEquals(0.0, weights.get(2));
        assertEquals(0.5, weights.get(3), EPS);
    }

    @Test
    void allMinusInfinityGivesZerosNotNaN() {
        Map<Integer, Double> weights = Weights.softmax(List.of(new WinRate(1, 0, NEG_INF), new WinRate(2, 0, NEG_INF)), T);
        assertEquals(Map.of(1, 0.0, 2, 0.0), weights);
    }

    @Test
    void emptyGivesEmpty() {
        assertEquals(Map.of(), Weights.softmax(List.of(), T));
    }

    @Test
    void largeSpreadDoesNotOverflow() {
        // (1.0 - 0.0) / 0.001 = 1000: e^1000 overflows a double, e^0 and e^-1000 do not.
        Map<Integer, Double> weights = Weights.softmax(List.of(new WinRate(1, 1, 1.0), new WinRate(2, 0, 0.0)), 0.001);
        assertEquals(1.0, weights.get(1), EPS);
        assertEquals(0.0, weights.get(2), EPS);
    }

    @Test
    void softmaxKeepsInputOrder() {
        Map<Integer, Double> weights = Weights.softmax(List.of(
                new WinRate(9, 0, 0.0), new WinRate(2, 0, 0.0), new WinRate(5, 0, 0.0)), T);
        assertEquals(List.of(9, 2, 5), List.copyOf(weights.keySet()));
    }

    @Test
    void softmaxRejectsBadInput() {
        assertThrows(IllegalArgumentException.class, () -> Weights.softmax(List.of(new WinRate(1, 0, 0.5)), 0.0));
        assertThrows(IllegalArgumentException.class, () -> Weights.softmax(List.of(new WinRate(1, 0, Double.NaN)), T));
        assertThrows(IllegalArgumentException.class,
                () -> Weights.softmax(List.of(new WinRate(1, 0, 0.5), new WinRate(1, 0, 0.2)), T));
    }

    @Test
    void burnUidAbsentIsAddedWithItsShare() {
        // others 0.6 + 0.4 = 1 scaled by (1 - 0.25): 0.45 and 0.30; burn uid 0 gets 0.25. Sum 1.
        Map<Integer, Double> burned = Weights.withBurn(mapOf(1, 0.6, 2, 0.4), 0, 0.25);
        assertEquals(List.of(1, 2, 0), List.copyOf(burned.keySet()));
        assertEquals(0.45, burned.get(1), EPS);
        assertEquals(0.30, burned.get(2), EPS);
        assertEquals(0.25, burned.get(0), EPS);
    }

    @Test
    void burnUidPresentIsReplacedByItsShare() {
        // uid 0 had 0.5; others 0.3 + 0.2 = 0.5 -> 0.3 / 0.5 * 0.6 = 0.36 and 0.2 / 0.5 * 0.6 = 0.24; uid 0 -> 0.4.
        Map<Integer, Double> weights = new LinkedHashMap<>(mapOf(0, 0.5, 1, 0.3));
        weights.put(2, 0.2);
        Map<Integer, Double> burned = Weights.withBurn(weights, 0, 0.4);
        assertEquals(0.40, burned.get(0), EPS);
        assertEquals(0.36, burned.get(1), EPS);
        assertEquals(0.24, burned.get(2), EPS);
    }

    @Test
    void unnormalisedOthersAreScaledToTheRest() {
        // others 3 + 1 = 4 -> 3/4 * 0.8 = 0.6 and 1/4 * 0.8 = 0.2; burn 0.2.
        Map<Integer, Double> burned = Weights.withBurn(mapOf(1, 3.0, 2, 1.0), 7, 0.2);
        assertEquals(0.6, burned.get(1), EPS);
        assertEquals(0.2, burned.get(2), EPS);
        assertEquals(0.2, burned.get(7), EPS);
    }

    @Test
    void othersAllZeroGiveEverythingToTheBurnUid() {
        // others stay 0; burn 0.3 is the whole sum, normalised to 1.
        Map<Integer, Double> burned = Weights.withBurn(mapOf(1, 0.0, 2, 0.0), 0, 0.3);
        assertEquals(0.0, burned.get(1));
        assertEquals(0.0, burned.get(2));
        assertEquals(1.0, burned.get(0), EPS);
    }

    @Test
    void zeroShareAndZeroOthersStayZero() {
        Map<Integer, Double> burned = Weights.withBurn(mapOf(1, 0.0, 2, 0.0), 0, 0.0);
        assertEquals(Map.of(0, 0.0, 1, 0.0, 2, 0.0), burned);
    }

    @Test
    void fullShareBurnsEverything() {
        Map<Integer, Double> burned = Weights.withBurn(mapOf(1, 0.7, 2, 0.3), 0, 1.0);
        assertEquals(0.0, burned.get(1), EPS);
        assertEquals(0.0, burned.get(2), EPS);
        assertEquals(1.0, burned.get(0), EPS);
    }

    @Test
    void burnRejectsBadInput() {
        assertThrows(IllegalArgumentException.class, () -> Weights.withBurn(mapOf(1, 0.5, 2, 0.5), 0, 1.5));
        assertThrows(IllegalArgumentException.class, () -> Weights.withBurn(mapOf(1, 0.5, 2, 0.5), 0, -0.1));
        assertThrows(IllegalArgumentException.class, () -> Weights.withBurn(mapOf(1, -0.5, 2, 0.5), 0, 0.1));
    }
}
