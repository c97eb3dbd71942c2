package io.sn11.engine;

import java.util.SplittableRandom;

/**
 * Picks the next token from a logits row. One sampler per generated sequence: a seeded sampler's state advances
 * with every token it draws, so a sequence's output does not depend on what else is generated alongside it.
 */
@FunctionalInterface
public interface Sampler {
    /** The highest temperature generation accepts: replies stay close to the model's most likely text. */
    double MAX_TEMPERATURE = 0.2;

    int sample(float[] logits);

    static Sampler greedy() { return Sampler::argmax; }

    /**
     * Greedy at temperature 0 (reproducible whatever the seed), else a draw from softmax(logits / T) with a random
     * generator seeded by {@code seed}: the same seed gives the same tokens.
     */
    static Sampler seeded(double temperature, long seed) {
        if (checkedTemperature(temperature) == 0) return greedy();
        SplittableRandom random = new SplittableRandom(seed);
        return logits -> {
            double max = Double.NEGATIVE_INFINITY;
            for (float l : logits) max = Math.max(max, l);
            double[] w = new double[logits.length];
            double z = 0;
            for (int i = 0; i < logits.length; i++) {
                w[i] = Math.exp((logits[i] - max) / temperature);
                z += w[i];
            }
            double u = random.nextDouble() * z, acc = 0;
            for (int i = 0; i < w.length; i++) {
                acc += w[i];
                if (u < acc) return i;
            }
            return argmax(logits);
        };
    }

    /** The temperature, when it lies in [0, {@link #MAX_TEMPERATURE}]. */
    static double checkedTemperature(double temperature) {
        if (!(temperature >= 0 && temperature <= MAX_TEMPERATURE)) {
            throw new IllegalArgumentException("temperature " + temperature + " outside [0, " + MAX_TEMPERATURE + "]");
        }
        return temperature;
    }

    /** Index of the largest logit, the lowest index on ties. */
    static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }
}
