package io.sn11.cluster.scoring;

import java.util.ArrayList;
import java.util.List;

/**
 * Pairwise win rates between registered miners. Comparing every pair, rather than ranking by
 * raw score, lets the later-submission penalty protect whoever published a model first.
 */
public final class WinRates {

    private WinRates() {
    }

    /**
     * For every ordered pair (i, j), i != j, the later submission's score (strictly higher block)
     * is multiplied by {@code laterSubmissionFactor}; i wins when its adjusted score is strictly
     * greater. Invalid contestants compare with score 0 but still count in n. A NaN score is
     * treated as invalid. Result in input order.
     */
    public static List<WinRate> compute(List<Contestant> contestants, double laterSubmissionFactor) {
        if (!(laterSubmissionFactor > 0 && laterSubmissionFactor <= 1)) {
            throw new IllegalArgumentException("laterSubmissionFactor must be in (0, 1], was " + laterSubmissionFactor);
        }
        int n = contestants.size();
        List<WinRate> result = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Contestant contestant = contestants.get(i);
            int wins = 0;
            for (int j = 0; j < n; j++) {
                Contestant opponent = contestants.get(j);
                if (i != j
                        && adjusted(contestant, opponent, laterSubmissionFactor)
                                > adjusted(opponent, contestant, laterSubmissionFactor)) {
                    wins++;
                }
            }
            double winRate = excluded(contestant)
                    ? Double.NEGATIVE_INFINITY
                    : (n == 1 ? 0.0 : (double) wins / (n - 1));
            result.add(new WinRate(contestant.uid(), wins, winRate));
        }
        return result;
    }

    /** The score {@code self} brings to a comparison with {@code other}. */
    private static double adjusted(Contestant self, Contestant other, double laterSubmissionFactor) {
        double score = comparableScore(self);
        return self.block() > other.block() ? score * laterSubmissionFactor : score;
    }

    private static double comparableScore(Contestant contestant) {
        return isInvalid(contestant) ? 0.0 : contestant.score();
    }

    private static boolean isInvalid(Contestant contestant) {
        return contestant.invalid() || Double.isNaN(contestant.score());
    }

    /** Invalid entries and zero scores may not earn weight, whatever their win count. */
    private static boolean excluded(Contestant contestant) {
        return isInvalid(contestant) || contestant.score() == 0.0;
    }
}
