package io.sn11.cluster.domain;

import io.sn11.cluster.CborSerializable;

/** Why an evaluation failed and whose fault it was. */
public record Failure(String reason, FailureCategory category) implements CborSerializable {
  public Failure {
    if (reason == null || reason.isBlank()) throw new IllegalArgumentException("a failure needs a reason");
    if (category == null) throw new IllegalArgumentException("a failure needs a category");
  }
}
