package io.sn11.cluster.scoring;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Turns win rates into the weight vector validators set on chain. */
public final class Weights {

    private Weights() {
    }

    /**
     * Softmax over winRate / temperature, in input order. Minus infinity (invalid entries) gets 0;
     * when every entry is minus infinity, or there are none, every weight is 0 rather than NaN.
     *
     * @throws IllegalArgumentException for a NaN or +infinite win rate, a repeated uid or a temperature not > 0
     */
    public static Map<Integer, Double> softmax(List<WinRate> winRates, double temperature) {
        if (!(temperature > 0 && Double.isFinite(temperature))) {
            throw new IllegalArgumentException("temperature must be > 0, was " + temperature);
        }
        double maxFinite = Double.NEGATIVE_INFINITY;
        for (WinRate winRate : winRates) {
            double rate = winRate.winRate();
            if (Double.isNaN(rate) || rate == Double.POSITIVE_INFINITY) {
                throw new IllegalArgumentException("win rate of uid " + winRate.uid() + " is " + rate);
            }
            maxFinite = Math.max(maxFinite, rate);
        }
        Map<Integer, Double> weights = new LinkedHashMap<>();
        double sum = 0;
        for (WinRate winRate : winRates) {
            // Subtracting the largest rate keeps every exponent <= 0: no overflow at small temperatures.
            double exponential = winRate.winRate() == Double.NEGATIVE_INFINITY
                    ? 0.0
                    : Math.exp((winRate.winRate() - maxFinite) / temperature);
            if (weights.put(winRate.uid(), exponential) != null) {
                throw new IllegalArgumentException("uid " + winRate.uid() + " appears more than once");
            }
            sum += exponential;
        }
        return normalised(weights, sum);
    }

    /**
     * Gives {@code burnUid} exactly {@code share} of the total and scales every other uid so the
     * others sum to 1 - share. Others that sum to 0 stay 0. {@code burnUid} is added at the end if
     * absent. The result sums to 1 whenever anything is non-zero.
     *
     * @throws IllegalArgumentException when share is outside [0, 1] or a weight is negative or not finite
     */
    public static Map<Integer, Double> withBurn(Map<Integer, Double> weights, int burnUid, double share) {
        if (!(share >= 0 && share <= 1)) {
            throw new IllegalArgumentException("burn share must be in [0, 1], was " + share);
        }
        double othersSum = 0;
        for (Map.Entry<Integer, Double> entry : weights.entrySet()) {
            double weight = entry.getValue();
            if (!(weight >= 0 && Double.isFinite(weight))) {
                throw new IllegalArgumentException("weight of uid " + entry.getKey() + " is " + weight);
            }
            if (entry.getKey() != burnUid) {
                othersSum += weight;
            }
        }
        Map<Integer, Double> burned = new LinkedHashMap<>();
        double sum = share;
        for (Map.Entry<Integer, Double> entry : weights.entrySet()) {
            if (entry.getKey() == burnUid) {
                burned.put(burnUid, share);
            } else {
                double scaled = othersSum > 0 ? entry.getValue() / othersSum * (1 - share) : 0.0;
                burned.put(entry.getKey(), scaled);
                sum += scaled;
            }
        }
        burned.putIfAbsent(burnUid, share);
        return normalised(burned, sum);
    }

    private static Map<Integer, Double> normalised(Map<Integer, Double> weights, double sum) {
        if (sum > 0) {
            weights.replaceAll((uid, weight) -> weight / sum);
        }
        return weights;
    }
}
