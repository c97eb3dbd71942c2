package io.sn11.cluster.scoring;

/**
 * @param wins    pairwise comparisons won
 * @param winRate wins / (n - 1); {@link Double#NEGATIVE_INFINITY} for invalid or zero-score entries
 */
public record WinRate(int uid, int wins, double winRate) {
}
