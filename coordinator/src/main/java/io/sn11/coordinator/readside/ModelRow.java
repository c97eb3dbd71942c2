package io.sn11.coordinator.readside;

import io.sn11.cluster.domain.Failure;
import io.sn11.cluster.domain.FailureCategory;
import io.sn11.cluster.domain.ModelDetails;
import io.sn11.cluster.domain.ModelStatus;
import io.sn11.cluster.domain.Scores;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** One row of {@code model_record}: a model as the read side last saw it. */
public record ModelRow(
    ModelDetails details,
    ModelStatus status,
    boolean accepted,
    int attempt,
    Failure failure,
    String duplicateOf,
    String contentHash,
    Scores scores,
    Instant submittedAt,
    Instant updatedAt,
    String worker,
    Progress progress,
    String scoringFingerprint,
    Rescore rescore) {

  /** The latest progress of the current attempt: phase and fraction done. */
  public record Progress(String phase, double fraction) {}

  /**
   * The model's rescore: QUEUED, PRECHECK or RUNNING while pending (the model stays COMPLETED with its score),
   * FAILED when it failed for good (with why).
   */
  public record Rescore(ModelStatus status, String fingerprint, Instant requestedAt, Failure failure) {
    public boolean isPending() {
      return !status.isFinal();
    }
  }

  /** Where the current attempt stands: the pending rescore's status, else the model's. */
  public ModelStatus attemptStatus() {
    return rescore != null && rescore.isPending() ? rescore.status() : status;
  }

  static final List<String> COLUMNS =
      List.of(
          "hash", "repo_namespace", "repo_name", "chat_template_type", "hotkey", "block", "revision", "competition_id", "status",
          "accepted", "attempt", "failure_reason", "failure_category", "duplicate_of", "content_hash", "model_size_score",
          "qualitative_score", "latency_score", "total_score", "coherence_score", "creativity_score", "post_eval_score", "judge_score",
          "submitted_at", "updated_at", "worker", "progress_phase", "progress_fraction", "scoring_fingerprint", "rescore_status",
          "rescore_fingerprint", "rescore_requested_at", "rescore_failure_reason", "rescore_failure_category");

  static final String SELECT = "SELECT " + String.join(", ", COLUMNS) + " FROM model_record";

  /** The columns again, each aliased with an {@code m_} prefix, for joins. */
  static final String COLUMNS_PREFIXED =
      COLUMNS.stream().skip(1).map(c -> ", m." + c + " AS m_" + c).collect(Collectors.joining());

  static ModelRow read(ResultSet rows, String prefix) throws SQLException {
    String reason = rows.getString(prefix + "failure_reason");
    String category = rows.getString(prefix + "failure_category");
    String phase = rows.getString(prefix + "progress_phase");
    String rescoreStatus = rows.getString(prefix + "rescore_status");
    return new ModelRow(
        new ModelDetails(
            rows.getString(prefix + "hash"),
            rows.getString(prefix + "repo_namespace"),
            rows.getString(prefix + "repo_name"),
            rows.getString(prefix + "chat_template_type"),
            rows.getString(prefix + "hotkey"),
            rows.getLong(prefix + "block"),
            rows.getString(prefix + "revision"),
            rows.getString(prefix + "competition_id")),
        ModelStatus.valueOf(rows.getString(prefix + "status")),
        rows.getBoolean(prefix + "accepted"),
        rows.getInt(prefix + "attempt"),
        failure(reason, category),
        rows.getString(prefix + "duplicate_of"),
        rows.getString(prefix + "content_hash"),
        scores(rows, prefix),
        rows.getTimestamp(prefix + "submitted_at").toInstant(),
        rows.getTimestamp(prefix + "updated_at").toInstant(),
        rows.getString(prefix + "worker"),
        phase == null ? null : new Progress(phase, rows.getDouble(prefix + "progress_fraction")),
        rows.getString(prefix + "scoring_fingerprint"),
        rescoreStatus == null
            ? null
            : new Rescore(
                ModelStatus.valueOf(rescoreStatus),
                rows.getString(prefix + "rescore_fingerprint"),
                rows.getTimestamp(prefix + "rescore_requested_at").toInstant(),
                failure(rows.getString(prefix + "rescore_failure_reason"), rows.getString(prefix + "rescore_failure_category"))));
  }

  /** The score columns of a row (named as in model_record and score_history), null where not measured. */
  static Scores scores(ResultSet rows, String prefix) throws SQLException {
    return new Scores(
        nullableDouble(rows, prefix + "model_size_score"),
        nullableDouble(rows, prefix + "qualitative_score"),
        nullableDouble(rows, prefix + "latency_score"),
        nullableDouble(rows, prefix + "total_score"),
        nullableDouble(rows, prefix + "coherence_score"),
        nullableDouble(rows, prefix + "creativity_score"),
        nullableDouble(rows, prefix + "post_eval_score"),
        nullableDouble(rows, prefix + "judge_score"));
  }

  static Failure failure(String reason, String category) {
    return reason == null ? null : new Failure(reason, FailureCategory.valueOf(category.toUpperCase(Locale.ROOT)));
  }

  private static Double nullableDouble(ResultSet rows, String column) throws SQLException {
    double value = rows.getDouble(column);
    return rows.wasNull() ? null : value;
  }
}
