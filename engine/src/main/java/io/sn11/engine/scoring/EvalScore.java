package io.sn11.engine.scoring;

import io.sn11.engine.backend.Backend.TopKStats;

import java.util.List;

/**
 * The subnet's eval score, computed exactly over the target tokens t1..tn (see DESIGN.md, "Scoring rules"). The
 * per-position reduction (top-10, softmax, entropy, target probability) runs in the backend; this class combines
 * those statistics.
 */
public final class EvalScore {
    private EvalScore() {}

    public static final int TOP_K = 10;
    /** Probability given to a target token that is not among the top k. */
    public static final double MISSING_PROB = 1e-9;
    public static final int MAX_NGRAM = 4;
    public static final double CREATIVITY_SHARPNESS = 5.0;

    /** Score of one sample. */
    public record SampleScore(double evalScore, double creativity, int targetTokens) {}

    /** Averages over samples (each sample weighs the same). */
    public record Aggregate(double evalScore, double creativity, int samples) {}

    public static double[] targetProbabilities(TopKStats s) {
        double[] p = new double[s.targetProb().length];
        for (int i = 0; i < p.length; i++) p[i] = s.targetInTopK()[i] ? s.targetProb()[i] : MISSING_PROB;
        return p;
    }

    /** 0.25 * (S1 + S2 + S3 + S4) / n, Sk = sum over windows of k consecutive p of their product. */
    public static double ngramScore(double[] p) {
        int n = p.length;
        if (n == 0) return 0;
        double total = 0;
        for (int k = 1; k <= MAX_NGRAM; k++) {
            for (int start = 0; start + k <= n; start++) {
                double prod = 1;
                for (int j = start; j < start + k; j++) prod *= p[j];
                total += prod;
            }
        }
        return total / MAX_NGRAM / n;
    }

    /** Mean entropy (nats) over positions / ln(k), mapped through 1 - exp(-5x). */
    public static double creativity(float[] entropy, int k) {
        if (entropy.length == 0) return 0;
        double sum = 0;
        for (float e : entropy) sum += e;
        double x = sum / entropy.length / Math.log(k);
        return 1 - Math.exp(-CREATIVITY_SHARPNESS * x);
    }

    public static SampleScore score(TopKStats s) {
        return new SampleScore(ngramScore(targetProbabilities(s)), creativity(s.entropy(), TOP_K), s.entropy().length);
    }

    public static Aggregate average(List<SampleScore> samples) {
        if (samples.isEmpty()) return new Aggregate(0, 0, 0);
        double e = 0, c = 0;
        for (SampleScore s : samples) { e += s.evalScore(); c += s.creativity(); }
        return new Aggregate(e / samples.size(), c / samples.size(), samples.size());
    }
}
