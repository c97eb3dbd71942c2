package io.sn11.gpunode.judge;

import io.sn11.cluster.scoring.JudgeTally;
import io.sn11.cluster.scoring.JudgeTally.Side;

import java.util.Locale;
import java.util.Objects;

/** The judge's answer for one comparison: the winner of each criterion and why. */
public record JudgeVerdict(Side realism, Side entertainment, Side coherency,
                           String realismReasoning, String entertainmentReasoning, String coherencyReasoning) {
    public JudgeVerdict {
        Objects.requireNonNull(realismReasoning, "realismReasoning");
        Objects.requireNonNull(entertainmentReasoning, "entertainmentReasoning");
        Objects.requireNonNull(coherencyReasoning, "coherencyReasoning");
    }

    public JudgeTally.Verdict toTally() { return new JudgeTally.Verdict(realism, entertainment, coherency); }

    /** The wire name of a side: original, generated or tie. */
    public static String wireName(Side side) { return side.name().toLowerCase(Locale.ROOT); }

    /** The side of a wire name, or null when the text is not one. */
    public static Side side(String wireName) {
        for (Side s : Side.values()) if (wireName(s).equals(wireName)) return s;
        return null;
    }
}
