package io.sn11.cluster.scoring;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Counts the judge's verdicts. For each sampled conversation the judge compares the model's
 * generated last turn with the original on three criteria; the judge score is the share of
 * criteria the generated turn won.
 */
public final class JudgeTally {

    private static final int CRITERIA_PER_VERDICT = 3;

    private JudgeTally() {
    }

    public enum Side { ORIGINAL, GENERATED, TIE }

    public record Verdict(Side realism, Side entertainment, Side coherency) {
        public Verdict {
            Objects.requireNonNull(realism, "realism");
            Objects.requireNonNull(entertainment, "entertainment");
            Objects.requireNonNull(coherency, "coherency");
        }

        int generatedWins() {
            int wins = 0;
            for (Side side : List.of(realism, entertainment, coherency)) {
                if (side == Side.GENERATED) {
                    wins++;
                }
            }
            return wins;
        }
    }

    /**
     * @param score          generated wins / (3 * valid verdicts); 0 without valid verdicts
     * @param failedTooOften failed / total judgements above the allowed fraction: the evaluation fails
     */
    public record Result(double score, int validVerdicts, int failed, int generatedWins, boolean failedTooOften) {
    }

    /**
     * @param judgements one per sampled conversation; empty for a failed judgement
     * @param maxFailedFraction failures above this fraction of all judgements fail the evaluation
     */
    public static Result tally(List<Optional<Verdict>> judgements, double maxFailedFraction) {
        if (judgements.isEmpty()) {
            // Nothing was judged, so nothing supports a score: treat as a failed evaluation.
            return new Result(0.0, 0, 0, 0, true);
        }
        int valid = 0;
        int failed = 0;
        int generatedWins = 0;
        for (Optional<Verdict> judgement : judgements) {
            if (judgement.isPresent()) {
                valid++;
                generatedWins += judgement.get().generatedWins();
            } else {
                failed++;
            }
        }
        double score = valid == 0 ? 0.0 : (double) generatedWins / (CRITERIA_PER_VERDICT * valid);
        return new Result(score, valid, failed, generatedWins, tooManyFailures(failed, judgements.size(), maxFailedFraction));
    }

    /**
     * The failure rule on its own: more than {@code maxFailedFraction} of {@code total} judgements failed. Also
     * answers "would these failures alone have failed the evaluation?" for a subset of the failures.
     */
    public static boolean tooManyFailures(int failed, int total, double maxFailedFraction) {
        if (total <= 0) {
            throw new IllegalArgumentException("no judgements");
        }
        return (double) failed / total > maxFailedFraction;
    }
}
