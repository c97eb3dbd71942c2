package io.sn11.engine.scoring;

import io.sn11.engine.backend.Backend.TopKStats;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Hand-worked numbers for the eval score. */
class EvalScoreTest {
    static final double EPS = 1e-12;

    @Test
    void targetOutsideTopKCountsAsOneInABillion() {
        TopKStats s = new TopKStats(new float[] {0.5f, 0f}, new boolean[] {true, false}, new float[] {0f, 0f});
        assertArrayEquals(new double[] {0.5, 1e-9}, EvalScore.targetProbabilities(s), EPS);
    }

    @Test
    void ngramSingleToken() {
        // n = 1: S1 = p, S2..S4 have no windows -> 0.25 * p / 1
        assertEquals(0.25 * 0.8, EvalScore.ngramScore(new double[] {0.8}), EPS);
    }

    @Test
    void ngramTwoTokens() {
        // p = (0.5, 0.4): S1 = 0.9, S2 = 0.2 -> 0.25 * 1.1 / 2 = 0.1375
        assertEquals(0.1375, EvalScore.ngramScore(new double[] {0.5, 0.4}), EPS);
    }

    @Test
    void ngramThreeTokens() {
        // p = (1, 0.5, 0.5): S1 = 2, S2 = 0.5 + 0.25 = 0.75, S3 = 0.25 -> 0.25 * 3 / 3 = 0.25
        assertEquals(0.25, EvalScore.ngramScore(new double[] {1, 0.5, 0.5}), EPS);
    }

    @Test
    void ngramFiveTokens() {
        // p = (1, 1, 0.5, 1, 1)
        // S1 = 4.5; S2 = 1 + .5 + .5 + 1 = 3; S3 = .5 + .5 + .5 = 1.5; S4 = .5 + .5 = 1
        // 0.25 * (4.5 + 3 + 1.5 + 1) / 5 = 0.5
        assertEquals(0.5, EvalScore.ngramScore(new double[] {1, 1, 0.5, 1, 1}), EPS);
        // all ones: S1 = 5, S2 = 4, S3 = 3, S4 = 2 -> 0.25 * 14 / 5 = 0.7
        assertEquals(0.7, EvalScore.ngramScore(new double[] {1, 1, 1, 1, 1}), EPS);
        // one miss in the middle kills every window through it
        double m = 1e-9;
        double expected = 0.25 * ((4 + m) + (2 + 2 * m) + (3 * m) + (2 * m)) / 5;
        assertEquals(expected, EvalScore.ngramScore(new double[] {1, 1, m, 1, 1}), EPS);
    }

    @Test
    void emptyTargetScoresZero() {
        assertEquals(0, EvalScore.ngramScore(new double[0]));
        assertEquals(0, EvalScore.creativity(new float[0], 10));
    }

    @Test
    void creativity() {
        // uniform top 10: entropy ln 10 -> x = 1 -> 1 - e^-5
        float ln10 = (float) Math.log(10);
        assertEquals(1 - Math.exp(-5), EvalScore.creativity(new float[] {ln10, ln10}, 10), 1e-7);
        // certain predictions: entropy 0 -> 0
        assertEquals(0, EvalScore.creativity(new float[] {0, 0, 0}, 10), EPS);
        // mean of (ln10, 0) = ln10 / 2 -> x = 0.5 -> 1 - e^-2.5
        assertEquals(1 - Math.exp(-2.5), EvalScore.creativity(new float[] {ln10, 0}, 10), 1e-7);
    }

    @Test
    void sampleScoreAndAverage() {
        float ln10 = (float) Math.log(10);
        TopKStats s = new TopKStats(new float[] {0.1f, 0.1f}, new boolean[] {true, true}, new float[] {ln10, ln10});
        EvalScore.SampleScore a = EvalScore.score(s);
        // S1 = 0.2, S2 = 0.01 -> 0.25 * 0.21 / 2
        assertEquals(0.25 * 0.21 / 2, a.evalScore(), 1e-8);
        assertEquals(2, a.targetTokens());
        EvalScore.Aggregate agg = EvalScore.average(List.of(a, new EvalScore.SampleScore(0.5, 0.0, 3)));
        assertEquals((a.evalScore() + 0.5) / 2, agg.evalScore(), EPS);
        assertEquals(a.creativity() / 2, agg.creativity(), EPS);
        assertEquals(2, agg.samples());
    }
}
