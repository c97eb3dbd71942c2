package io.sn11.cluster.domain;

import com.fasterxml.jackson.annotation.JsonValue;

/** Whose fault a failure is: the miner's model (final) or our infrastructure (retried later). */
public enum FailureCategory {
  MINER,
  INFRASTRUCTURE;

  @JsonValue
  public String wireName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
