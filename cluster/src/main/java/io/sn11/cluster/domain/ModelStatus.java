package io.sn11.cluster.domain;

/** The lifecycle of a submitted model, as the subnet's validation API names it. */
public enum ModelStatus {
  QUEUED,
  PRECHECK,
  RUNNING,
  COMPLETED,
  FAILED;

  public boolean isFinal() {
    return this == COMPLETED || this == FAILED;
  }
}
