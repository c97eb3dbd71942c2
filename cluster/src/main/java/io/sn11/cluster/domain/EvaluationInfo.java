package io.sn11.cluster.domain;

/**
 * Keys of a completed evaluation's {@code evaluationInfo} map (what produced the scores) that the coordinator
 * reads rather than only shows.
 */
public final class EvaluationInfo {
  private EvaluationInfo() {}

  /**
   * The scoring fingerprint of the gpu-node that produced the scores. Results without it (recorded before nodes
   * reported one, imported, or from older nodes) count as scored under no fingerprint.
   */
  public static final String SCORING_FINGERPRINT = "scoring_fingerprint";
}
