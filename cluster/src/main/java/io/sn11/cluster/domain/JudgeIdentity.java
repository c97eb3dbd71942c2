package io.sn11.cluster.domain;

import io.sn11.cluster.CborSerializable;

/**
 * Which judge gave a verdict, precisely enough to tell two judges apart: the kind ({@code offline}, {@code api},
 * {@code engine}), the model (the heuristic's name, the providers and their models, or the judge model's repository
 * and revision), and for a judge model run on our engine the content hash of its files and the engine's version.
 *
 * @param contentHash SHA-256 (lower-case hex) of the judge model's content; null for judges that are no model of ours
 * @param engineVersion the engine that ran the judge model; null for judges that are no model of ours
 */
public record JudgeIdentity(String kind, String model, String contentHash, String engineVersion) implements CborSerializable {
  public JudgeIdentity {
    if (kind == null || kind.isBlank()) throw new IllegalArgumentException("a judge identity needs a kind");
    if (model == null || model.isBlank()) throw new IllegalArgumentException("a judge identity needs a model");
  }

  /** One line for logs and results, e.g. {@code engine:acme/judge@main#3fa2…}. */
  public String describe() {
    StringBuilder s = new StringBuilder(kind).append(':').append(model);
    if (contentHash != null) s.append('#').append(contentHash, 0, Math.min(12, contentHash.length()));
    if (engineVersion != null) s.append(" (engine ").append(engineVersion).append(')');
    return s.toString();
  }
}
