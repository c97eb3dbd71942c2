package io.sn11.coordinator.readside;

import io.sn11.cluster.domain.EvaluationInfo;
import io.sn11.cluster.domain.Failure;
import io.sn11.cluster.domain.FailureCategory;
import io.sn11.cluster.domain.ModelDetails;
import io.sn11.cluster.domain.ModelStatus;
import io.sn11.cluster.domain.Scores;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sn11.coordinator.CoordinatorRole;
import io.sn11.coordinator.CoordinatorSettings;
import io.sn11.cluster.node.Roles;
import io.sn11.coordinator.evaluation.ModelEvaluation;
import io.sn11.coordinator.registry.MinerRegistration;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.ShardedDaemonProcessSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ShardedDaemonProcess;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.projection.ProjectionBehavior;
import org.apache.pekko.projection.ProjectionId;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.apache.pekko.projection.eventsourced.javadsl.EventSourcedProvider;
import org.apache.pekko.projection.javadsl.ExactlyOnceProjection;
import org.apache.pekko.projection.javadsl.SourceProvider;
import org.apache.pekko.projection.jdbc.javadsl.JdbcHandler;
import org.apache.pekko.projection.jdbc.javadsl.JdbcProjection;

/**
 * Turns the events of the model evaluations and of the registry into the read-side tables. Exactly
 * once: each row change commits in the same transaction as the projection's offset. One instance per
 * tag, spread over the coordinators by a sharded daemon process.
 */
public final class ReadSideProjection extends JdbcHandler<EventEnvelope<Object>, ReadSideSession> {
  public static final String NAME = "read-side";

  public static void init(ActorSystem<?> system, CoordinatorSettings settings, ReadSide readSide) {
    List<String> tags = ReadSideTags.all(settings.projectionParallelism());
    ShardedDaemonProcess.get(system)
        .init(
            ProjectionBehavior.Command.class,
            NAME,
            tags.size(),
            index -> ProjectionBehavior.create(projection(system, readSide, tags.get(index))),
            ShardedDaemonProcessSettings.create(system).withRole(Roles.COORDINATOR),
            Optional.of(ProjectionBehavior.stopMessage()));
  }

  static ExactlyOnceProjection<Offset, EventEnvelope<Object>> projection(ActorSystem<?> system, ReadSide readSide, String tag) {
    SourceProvider<Offset, EventEnvelope<Object>> source = EventSourcedProvider.eventsByTag(system, JdbcReadJournal.Identifier(), tag);
    return JdbcProjection.exactlyOnce(
        ProjectionId.of(NAME, tag), source, () -> new ReadSideSession(readSide.dataSource()), ReadSideProjection::new, system);
  }

  @Override
  public void process(ReadSideSession session, EventEnvelope<Object> envelope) throws Exception {
    session.withConnection(
        connection -> {
          apply(connection, envelope.persistenceId(), envelope.event());
          return null;
        });
  }

  /** Verdicts are stored as the API shows them: snake_case JSON. */
  private static final ObjectMapper VERDICT_JSON = CoordinatorRole.jsonMapper();

  /** Applies one event of the entity {@code persistenceId} to the tables (package-private for the read side's storage tests). */
  static void apply(Connection connection, String persistenceId, Object event) throws SQLException {
    String hash = persistenceId.substring(persistenceId.indexOf('|') + 1);
    if (event instanceof ModelEvaluation.Submitted e) {
      insertModel(connection, e.details(), e.duplicateOf(), e.at());
    } else if (event instanceof ModelEvaluation.SubmissionRefused e) {
      update(connection, hash, e.at(), "status = ?, accepted = FALSE", ModelStatus.FAILED.name());
      setFailure(connection, hash, new Failure(e.reason(), FailureCategory.MINER));
    } else if (event instanceof ModelEvaluation.Requeued e) {
      // A pending rescore goes back to its queue; any other model is queued again, ending a failed rescore.
      update(
          connection, hash, e.at(),
          "status = CASE WHEN " + RESCORE_PENDING + " THEN status ELSE 'QUEUED' END,"
              + " rescore_status = CASE WHEN " + RESCORE_PENDING + " THEN 'QUEUED' ELSE NULL END, failure_reason = NULL, failure_category = NULL");
    } else if (event instanceof ModelEvaluation.RescoreRequested e) {
      update(
          connection, hash, e.at(),
          "rescore_status = 'QUEUED', rescore_fingerprint = ?, rescore_requested_at = ?, rescore_failure_reason = NULL, rescore_failure_category = NULL",
          e.fingerprint(), Timestamp.from(e.at()));
    } else if (event instanceof ModelEvaluation.PrecheckStarted e) {
      update(
          connection, hash, e.at(),
          attemptMovedTo(ModelStatus.PRECHECK) + ", attempt = ?, worker = ?, progress_phase = 'precheck', progress_fraction = 0",
          e.attempt(), e.worker());
    } else if (event instanceof ModelEvaluation.RunningStarted e) {
      update(connection, hash, e.at(), attemptMovedTo(ModelStatus.RUNNING));
    } else if (event instanceof ModelEvaluation.ProgressReported e) {
      update(connection, hash, e.at(), "attempt = ?, progress_phase = ?, progress_fraction = ?", e.attempt(), e.phase(), e.fraction());
    } else if (event instanceof ModelEvaluation.EvaluationCompleted e) {
      completed(connection, hash, e);
    } else if (event instanceof ModelEvaluation.VerdictsRecorded e) {
      replaceVerdicts(connection, hash, e);
    } else if (event instanceof ModelEvaluation.EvaluationFailed e) {
      failed(connection, hash, e);
    } else if (event instanceof MinerRegistration.MinerUpdated e) {
      upsertRegistry(connection, e);
    }
  }

  private static void insertModel(Connection connection, ModelDetails d, String duplicateOf, Instant at) throws SQLException {
    try (PreparedStatement statement =
        connection.prepareStatement(
            "INSERT INTO model_record (hash, repo_namespace, repo_name, chat_template_type, hotkey, block, revision, competition_id,"
                + " status, accepted, attempt, duplicate_of, submitted_at, updated_at, repository_key)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, TRUE, 0, ?, ?, ?, ?)")) {
      statement.setString(1, d.hash());
      statement.setString(2, d.repoNamespace());
      statement.setString(3, d.repoName());
      statement.setString(4, d.chatTemplateType());
      statement.setString(5, d.hotkey());
      statement.setLong(6, d.block());
      statement.setString(7, d.revision());
      statement.setString(8, d.competitionId());
      statement.setString(9, ModelStatus.QUEUED.name());
      statement.setString(10, duplicateOf);
      statement.setTimestamp(11, Timestamp.from(at));
      statement.setTimestamp(12, Timestamp.from(at));
      statement.setString(13, d.repositoryKey());
      statement.executeUpdate();
    }
  }

  /** SQL: the row's rescore is pending (its status QUEUED, PRECHECK or RUNNING; the model stays COMPLETED meanwhile). */
  static final String RESCORE_PENDING = "rescore_status IN ('QUEUED', 'PRECHECK', 'RUNNING')";

  /** The assignments that move the current attempt to {@code status}: a pending rescore's, else the model's. */
  private static String attemptMovedTo(ModelStatus status) {
    String value = "'" + status.name() + "'";
    return "status = CASE WHEN " + RESCORE_PENDING + " THEN status ELSE " + value + " END,"
        + " rescore_status = CASE WHEN " + RESCORE_PENDING + " THEN " + value + " ELSE rescore_status END";
  }

  /** The new score becomes current and a pending rescore is over; the result joins the model's history. */
  private static void completed(Connection connection, String hash, ModelEvaluation.EvaluationCompleted e) throws SQLException {
    boolean rescore = rescorePending(connection, hash) && ModelEvaluation.EVALUATION_SOURCE.equals(e.source());
    String fingerprint = e.evaluationInfo().get(EvaluationInfo.SCORING_FINGERPRINT);
    Scores s = e.scores();
    update(
        connection, hash, e.at(),
        "status = ?, attempt = ?, score_source = ?, failure_reason = NULL, failure_category = NULL, content_hash = COALESCE(?, content_hash),"
            + " model_size_score = ?, qualitative_score = ?, latency_score = ?, total_score = ?, coherence_score = ?,"
            + " creativity_score = ?, post_eval_score = ?, judge_score = ?, scoring_fingerprint = ?, rescore_status = NULL",
        ModelStatus.COMPLETED.name(), e.attempt(), e.source(), e.evaluationInfo().get("content_hash"),
        s.modelSizeScore(), s.qualitativeScore(), s.latencyScore(), s.totalScore(), s.coherenceScore(), s.creativityScore(),
        s.postEvalScore(), s.judgeScore(), fingerprint);
    recordHistory(connection, hash, e.attempt(), ModelStatus.COMPLETED, rescore, fingerprint, e.source(), s, null, e.at());
  }

  /** A failed rescore leaves the model COMPLETED with its score; any other failure is the model's. Both join the history. */
  private static void failed(Connection connection, String hash, ModelEvaluation.EvaluationFailed e) throws SQLException {
    boolean rescore = rescorePending(connection, hash);
    if (rescore) {
      update(
          connection, hash, e.at(), "rescore_status = ?, attempt = ?, rescore_failure_reason = ?, rescore_failure_category = ?",
          ModelStatus.FAILED.name(), e.attempt(), e.failure().reason(), e.failure().category().wireName());
    } else {
      update(connection, hash, e.at(), "status = ?, attempt = ?", ModelStatus.FAILED.name(), e.attempt());
      setFailure(connection, hash, e.failure());
    }
    recordHistory(connection, hash, e.attempt(), ModelStatus.FAILED, rescore, null, null, Scores.NONE, e.failure(), e.at());
  }

  private static boolean rescorePending(Connection connection, String hash) throws SQLException {
    try (PreparedStatement query = connection.prepareStatement("SELECT COUNT(*) FROM model_record WHERE hash = ? AND " + RESCORE_PENDING)) {
      query.setString(1, hash);
      try (ResultSet rows = query.executeQuery()) {
        return rows.next() && rows.getInt(1) > 0;
      }
    }
  }

  /** One row per attempt: an attempt seen again (a replay) replaces its row. */
  private static void recordHistory(
      Connection connection, String hash, int attempt, ModelStatus outcome, boolean rescore, String fingerprint, String source, Scores s,
      Failure failure, Instant at)
      throws SQLException {
    try (PreparedStatement delete = connection.prepareStatement("DELETE FROM score_history WHERE hash = ? AND attempt = ?")) {
      delete.setString(1, hash);
      delete.setInt(2, attempt);
      delete.executeUpdate();
    }
    try (PreparedStatement insert =
        connection.prepareStatement(
            "INSERT INTO score_history (hash, attempt, outcome, rescore, scoring_fingerprint, source, model_size_score, qualitative_score,"
                + " latency_score, total_score, coherence_score, creativity_score, post_eval_score, judge_score, failure_reason,"
                + " failure_category, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
      Object[] values = {
        hash, attempt, outcome.name(), rescore, fingerprint, source, s.modelSizeScore(), s.qualitativeScore(), s.latencyScore(),
        s.totalScore(), s.coherenceScore(), s.creativityScore(), s.postEvalScore(), s.judgeScore(),
        failure == null ? null : failure.reason(), failure == null ? null : failure.category().wireName(), Timestamp.from(at)
      };
      // setObject(null) leaves the type to the database, as in update().
      for (int i = 0; i < values.length; i++) insert.setObject(i + 1, values[i]);
      insert.executeUpdate();
    }
  }


  /** The latest judged attempt replaces the verdicts of earlier ones. */
  private static void replaceVerdicts(Connection connection, String hash, ModelEvaluation.VerdictsRecorded e) throws SQLException {
    try (PreparedStatement delete = connection.prepareStatement("DELETE FROM judge_verdict WHERE hash = ?")) {
      delete.setString(1, hash);
      delete.executeUpdate();
    }
    try (PreparedStatement insert = connection.prepareStatement("INSERT INTO judge_verdict (hash, attempt, position, body) VALUES (?, ?, ?, ?)")) {
      for (int position = 0; position < e.verdicts().size(); position++) {
        insert.setString(1, hash);
        insert.setInt(2, e.attempt());
        insert.setInt(3, position);
        try {
          insert.setString(4, VERDICT_JSON.writeValueAsString(e.verdicts().get(position)));
        } catch (JsonProcessingException notSerializable) {
          throw new SQLException("verdict " + position + " of model " + hash + " cannot be written as JSON", notSerializable);
        }
        insert.addBatch();
      }
      insert.executeBatch();
    }
  }

  private static void setFailure(Connection connection, String hash, Failure failure) throws SQLException {
    try (PreparedStatement statement =
        connection.prepareStatement("UPDATE model_record SET failure_reason = ?, failure_category = ? WHERE hash = ?")) {
      statement.setString(1, failure.reason());
      statement.setString(2, failure.category().wireName());
      statement.setString(3, hash);
      statement.executeUpdate();
    }
  }

  private static void update(Connection connection, String hash, Instant at, String assignments, Object... values) throws SQLException {
    try (PreparedStatement statement =
        connection.prepareStatement("UPDATE model_record SET " + assignments + ", updated_at = ? WHERE hash = ?")) {
      int i = 1;
      // setObject(null) leaves the type to the database: PostgreSQL refuses a VARCHAR null for a DOUBLE column.
      for (Object value : values) statement.setObject(i++, value);
      statement.setTimestamp(i++, Timestamp.from(at));
      statement.setString(i, hash);
      statement.executeUpdate();
    }
  }

  private static void upsertRegistry(Connection connection, MinerRegistration.MinerUpdated e) throws SQLException {
    // One projection instance owns each uid's tag, so update-then-insert cannot race another writer.
    try (PreparedStatement update =
        connection.prepareStatement("UPDATE miner_registry SET hotkey = ?, hash = ?, block = ?, updated_at = ? WHERE uid = ?")) {
      update.setString(1, e.hotkey());
      update.setString(2, e.hash());
      update.setLong(3, e.block());
      update.setTimestamp(4, Timestamp.from(e.at()));
      update.setInt(5, e.uid());
      if (update.executeUpdate() > 0) return;
    }
    try (PreparedStatement insert =
        connection.prepareStatement("INSERT INTO miner_registry (uid, hotkey, hash, block, updated_at) VALUES (?, ?, ?, ?, ?)")) {
      insert.setInt(1, e.uid());
      insert.setString(2, e.hotkey());
      insert.setString(3, e.hash());
      insert.setLong(4, e.block());
      insert.setTimestamp(5, Timestamp.from(e.at()));
      insert.executeUpdate();
    }
  }
}
