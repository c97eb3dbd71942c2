package io.sn11.cluster.scoring;

import java.util.Map;
import java.util.TreeMap;

/**
 * Exponential moving average of weight vectors, so one noisy step cannot swing the weights a
 * validator sets, and a miner that disappears decays gradually instead of dropping to 0.
 */
public final class MovingAverage {

    private MovingAverage() {
    }

    /**
     * For every uid in previous ∪ step: (1 - alpha) * previous + alpha * step, a missing side
     * counting as 0; a NaN or infinite result becomes 0. Sorted by uid.
     */
    public static Map<Integer, Double> fold(Map<Integer, Double> previous, Map<Integer, Double> step, double alpha) {
        if (!(alpha >= 0 && alpha <= 1)) {
            throw new IllegalArgumentException("alpha must be in [0, 1], was " + alpha);
        }
        Map<Integer, Double> folded = new TreeMap<>();
        for (Integer uid : previous.keySet()) {
            folded.put(uid, 0.0);
        }
        for (Integer uid : step.keySet()) {
            folded.put(uid, 0.0);
        }
        folded.replaceAll((uid, ignored) -> {
            double average = (1 - alpha) * previous.getOrDefault(uid, 0.0) + alpha * step.getOrDefault(uid, 0.0);
            return Double.isFinite(average) ? average : 0.0;
        });
        return folded;
    }
}
