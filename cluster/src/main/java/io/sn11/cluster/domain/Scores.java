package io.sn11.cluster.domain;

import io.sn11.cluster.CborSerializable;

/**
 * The scores of one evaluation, as the subnet reports them. A null score has not been measured
 * (never invented): the judge score, for instance, is absent until a judge has run.
 */
public record Scores(
    Double modelSizeScore,
    Double qualitativeScore,
    Double latencyScore,
    Double totalScore,
    Double coherenceScore,
    Double creativityScore,
    Double postEvalScore,
    Double judgeScore)
    implements CborSerializable {

  public static final Scores NONE = new Scores(null, null, null, null, null, null, null, null);

  public Scores withTotalScore(Double total) {
    return new Scores(
        modelSizeScore, qualitativeScore, latencyScore, total, coherenceScore, creativityScore, postEvalScore, judgeScore);
  }
}
