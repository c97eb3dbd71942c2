package io.sn11.gpunode.engine;

import java.util.SplittableRandom;

/** Picks the next token from a logits row: greedy at temperature 0, else softmax(logits / T) with a seeded RNG. */
public final class Sampler {
    private final float temperature;
    private final SplittableRandom random;

    public Sampler(float temperature, long seed) {
        if (temperature < 0 || Float.isNaN(temperature)) throw new IllegalArgumentException("temperature must be >= 0");
        this.temperature = temperature;
        this.random = new SplittableRandom(seed);
    }

    public static Sampler greedy() { return new Sampler(0f, 0L); }

    public int sample(float[] logits) {
        if (temperature == 0f) return argmax(logits);
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
    }

    /** Index of the largest logit, the lowest index on ties. */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }
}
