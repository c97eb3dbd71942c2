package io.sn11.cluster.scoring;

/**
 * The measured scores of one evaluation; null means not measured (yet).
 *
 * @param evalScore    qualitative (n-gram) eval score
 * @param creativity   creativity in [0, 1)
 * @param latencyScore see {@link TotalScore#latencyScore}
 * @param coherence    coherence score
 * @param judgeScore   see {@link JudgeTally}
 */
public record ScoreInputs(Double evalScore, Double creativity, Double latencyScore, Double coherence, Double judgeScore) {
}
