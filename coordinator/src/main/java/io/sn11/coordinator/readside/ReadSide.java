package io.sn11.coordinator.readside;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.sn11.cluster.domain.Failure;
import io.sn11.cluster.domain.ModelDetails;
import io.sn11.cluster.domain.ModelStatus;
import io.sn11.cluster.domain.Scores;
import io.sn11.coordinator.CoordinatorSettings;
import io.sn11.coordinator.evaluation.ModelEvaluation;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/**
 * The coordinator's read side: a connection pool on the same database as the journal, the schema
 * migrations, and the queries that the minerboard, the submission rules and the weights need.
 */
public final class ReadSide implements AutoCloseable {
  private final HikariDataSource dataSource;

  private ReadSide(HikariDataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** A read-side query; JDBC blocks, so it runs on the blocking executor ({@link #on}). */
  @FunctionalInterface
  public interface Query<T> {
    T run() throws SQLException;
  }

  /** Runs {@code query} on {@code executor}; an SQLException fails the stage. */
  public static <T> CompletionStage<T> on(Executor executor, Query<T> query) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return query.run();
          } catch (SQLException e) {
            throw new CompletionException(e);
          }
        },
        executor);
  }

  /** Opens the pool and brings the schema up to date (the plugin's journal tables and our own). */
  public static ReadSide open(CoordinatorSettings.Database database) {
    HikariConfig config = poolConfig(database, "sn11-read-side", database.readSidePoolSize());
    // Fail fast when the database is away instead of holding HTTP requests for the default 30 s.
    config.setConnectionTimeout(5_000);
    config.setInitializationFailTimeout(30_000);
    HikariDataSource dataSource = new HikariDataSource(config);
    try {
      migrate(dataSource, database.dialect());
      return new ReadSide(dataSource);
    } catch (RuntimeException e) {
      dataSource.close();
      throw e;
    }
  }

  /** A connection pool on the configured database: address, credentials, name and size. */
  static HikariConfig poolConfig(CoordinatorSettings.Database database, String poolName, int size) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(database.url());
    config.setUsername(database.user());
    config.setPassword(database.password());
    config.setPoolName(poolName);
    config.setMaximumPoolSize(size);
    return config;
  }

  static void migrate(DataSource dataSource, CoordinatorSettings.Dialect dialect) {
    Flyway.configure()
        // On PostgreSQL Flyway's default lock is a transactional advisory lock: it keeps a transaction
        // open on a second connection for the whole run, and the plugin's CREATE INDEX CONCURRENTLY (V1)
        // waits for that transaction forever. A session-level lock keeps no transaction open.
        .configuration(Map.of("flyway.postgresql.transactional.lock", "false"))
        .dataSource(dataSource)
        .locations("classpath:db/migration")
        .javaMigrations(new V1__PersistencePluginSchema(dialect))
        .load()
        .migrate();
  }

  public DataSource dataSource() {
    return dataSource;
  }

  /** True when the database answers within a second. */
  public boolean databaseAnswers() {
    return answers(dataSource);
  }

  /** True when {@code dataSource} gives a connection that answers within a second. */
  static boolean answers(DataSource dataSource) {
    try (Connection connection = dataSource.getConnection()) {
      return connection.isValid(1);
    } catch (SQLException e) {
      return false;
    }
  }

  /**
   * The model of the hotkey with the latest block that passed the submission rules, if any: what a hotkey's
   * {@code HotkeySubmissions} entity learns, once, of the models accepted before its journal began.
   */
  public Optional<ModelRow> latestAcceptedModel(String hotkey) throws SQLException {
    return queryOne(ModelRow.SELECT + " WHERE hotkey = ? AND accepted ORDER BY block DESC, submitted_at DESC", hotkey);
  }

  /**
   * The earliest accepted model another hotkey submitted for the repository, if any: a submission the
   * window rule refused is never the original of its repository. Repository ids compare
   * case-insensitively, as Hugging Face resolves them (and as the weights' duplicate check does), through
   * the indexed {@code repository_key}; a hotkey's own earlier models are the window rule's business, not duplicates.
   */
  public Optional<ModelRow> earliestAcceptedModelOfRepositoryByOthers(ModelDetails model) throws SQLException {
    return queryOne(
        ModelRow.SELECT + " WHERE repository_key = ? AND accepted AND hotkey <> ? ORDER BY block ASC, submitted_at ASC",
        model.repositoryKey(),
        model.hotkey());
  }

  /** Every registry entry with the model it names, when the model is known; ordered by uid. */
  public List<RegistryRow> registry() throws SQLException {
    String sql = "SELECT r.uid, r.hotkey, r.hash, r.block, r.updated_at, m.hash AS m_hash"
        + ModelRow.COLUMNS_PREFIXED
        + " FROM miner_registry r LEFT JOIN model_record m ON m.hash = r.hash ORDER BY r.uid";
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = connection.prepareStatement(sql);
        ResultSet rows = statement.executeQuery()) {
      List<RegistryRow> result = new ArrayList<>();
      while (rows.next()) result.add(RegistryRow.read(rows));
      return result;
    }
  }

  /** A model's status and attempt number, as the dispatcher needs them. */
  public record AttemptRow(String hash, ModelStatus status, int attempt) {}

  /** SQL: where the current attempt stands, a pending rescore's status or else the model's (see {@link ModelRow#attemptStatus()}). */
  private static final String ATTEMPT_STATUS = "CASE WHEN " + ReadSideProjection.RESCORE_PENDING + " THEN rescore_status ELSE status END";

  /**
   * Up to {@code limit} models waiting for an evaluation: queued models, oldest submission first, then models
   * with a queued rescore, oldest request first. New models come first: they have no score at all, while a
   * model being rescored keeps a valid score until its rescore completes.
   */
  public List<AttemptRow> queuedModels(int limit) throws SQLException {
    List<AttemptRow> queued = new ArrayList<>(attempts("WHERE status = 'QUEUED' ORDER BY submitted_at, hash", limit));
    if (queued.size() < limit) {
      queued.addAll(attempts("WHERE rescore_status = 'QUEUED' ORDER BY rescore_requested_at, hash", limit - queued.size()));
    }
    return queued;
  }

  /** How many models are in each status (statuses without models are absent). */
  public Map<ModelStatus, Integer> modelsByStatus() throws SQLException {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement query = connection.prepareStatement("SELECT status, COUNT(*) FROM model_record GROUP BY status");
        ResultSet rows = query.executeQuery()) {
      Map<ModelStatus, Integer> counts = new java.util.EnumMap<>(ModelStatus.class);
      while (rows.next()) counts.put(ModelStatus.valueOf(rows.getString(1)), rows.getInt(2));
      return counts;
    }
  }

  /** Every model (or pending rescore) in precheck or running: the attempts that some worker should be holding a lease on. */
  public List<AttemptRow> activeAttempts() throws SQLException {
    return attempts("WHERE status IN ('PRECHECK', 'RUNNING') OR rescore_status IN ('PRECHECK', 'RUNNING') ORDER BY hash", 0);
  }

  /** The attempts of the models matching {@code condition}, each with where its current attempt stands. */
  private List<AttemptRow> attempts(String condition, int limit) throws SQLException {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement =
            connection.prepareStatement("SELECT hash, " + ATTEMPT_STATUS + " AS attempt_status, attempt FROM model_record " + condition)) {
      statement.setMaxRows(limit);
      try (ResultSet rows = statement.executeQuery()) {
        List<AttemptRow> result = new ArrayList<>();
        while (rows.next()) {
          result.add(new AttemptRow(rows.getString("hash"), ModelStatus.valueOf(rows.getString("attempt_status")), rows.getInt("attempt")));
        }
        return result;
      }
    }
  }

  /** A page of a model's stored verdicts: the attempt they belong to, how many there are, and the page's JSON bodies. */
  public record VerdictPage(int attempt, int total, List<String> bodies) {}

  /** Verdicts {@code offset .. offset + limit - 1} (in sample order) of the model's latest judged attempt. */
  public VerdictPage verdicts(String hash, int offset, int limit) throws SQLException {
    try (Connection connection = dataSource.getConnection()) {
      int attempt = 0;
      int total = 0;
      try (PreparedStatement count = connection.prepareStatement("SELECT COUNT(*), MAX(attempt) FROM judge_verdict WHERE hash = ?")) {
        count.setString(1, hash);
        try (ResultSet rows = count.executeQuery()) {
          if (rows.next()) {
            total = rows.getInt(1);
            attempt = rows.getInt(2);
          }
        }
      }
      List<String> bodies = new ArrayList<>();
      try (PreparedStatement page =
          connection.prepareStatement("SELECT body FROM judge_verdict WHERE hash = ? ORDER BY position LIMIT ? OFFSET ?")) {
        page.setString(1, hash);
        page.setInt(2, limit);
        page.setInt(3, offset);
        try (ResultSet rows = page.executeQuery()) {
          while (rows.next()) bodies.add(rows.getString(1));
        }
      }
      return new VerdictPage(attempt, total, bodies);
    }
  }

  /** One admin action: when, which token (fingerprint), which route, and the HTTP status. */
  public record AdminAction(java.time.Instant at, String who, String action, int status) {}

  public void recordAdminAction(AdminAction action) throws SQLException {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement insert = connection.prepareStatement("INSERT INTO admin_action (at, who, action, status) VALUES (?, ?, ?, ?)")) {
      insert.setTimestamp(1, java.sql.Timestamp.from(action.at()));
      insert.setString(2, action.who());
      insert.setString(3, action.action());
      insert.setInt(4, action.status());
      insert.executeUpdate();
    }
  }

  /** The latest {@code limit} admin actions, newest first. */
  public List<AdminAction> adminActions(int limit) throws SQLException {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement query = connection.prepareStatement("SELECT at, who, action, status FROM admin_action ORDER BY at DESC")) {
      query.setMaxRows(limit);
      try (ResultSet rows = query.executeQuery()) {
        List<AdminAction> actions = new ArrayList<>();
        while (rows.next()) {
          actions.add(new AdminAction(rows.getTimestamp(1).toInstant(), rows.getString(2), rows.getString(3), rows.getInt(4)));
        }
        return actions;
      }
    }
  }

  /**
   * One report a validator sent about itself: its metadata, the block it last saw (telemetry's
   * {@code current_block}, when given) and the report's JSON.
   */
  public record ValidatorReport(
      java.time.Instant at, String kind, String hotkey, Integer uid, String coldkey, String gitCommit, String bittensorVersion, Long block,
      String body) {}

  /** A validator's latest state: what its latest reports said, when it last reported, how many reports it sent. */
  public record ValidatorStatus(
      String hotkey, Integer uid, String coldkey, String gitCommit, String bittensorVersion, Long lastBlock, java.time.Instant lastReportAt,
      long reports) {}

  /**
   * Stores a report and brings its validator's state up to date (a value the report leaves out keeps the
   * previous one); beyond the newest {@code keepReports} reports and {@code keepValidators} validators the
   * oldest are dropped, so that anonymous reports cannot fill the database.
   */
  public void recordValidatorReport(ValidatorReport report, int keepReports, int keepValidators) throws SQLException {
    try (Connection connection = dataSource.getConnection()) {
      try (PreparedStatement insert =
          connection.prepareStatement("INSERT INTO validator_report (received_at, kind, hotkey, uid, body) VALUES (?, ?, ?, ?, ?)")) {
        insert.setTimestamp(1, java.sql.Timestamp.from(report.at()));
        insert.setString(2, report.kind());
        insert.setString(3, report.hotkey());
        insert.setObject(4, report.uid(), java.sql.Types.INTEGER);
        insert.setString(5, report.body());
        insert.executeUpdate();
      }
      if (!updateValidatorStatus(connection, report)) {
        try {
          insertValidatorStatus(connection, report);
        } catch (SQLException raced) {
          // Another coordinator inserted the validator's first report meanwhile (unique violation): update it.
          if (!"23505".equals(raced.getSQLState()) || !updateValidatorStatus(connection, report)) throw raced;
        }
      }
      try (PreparedStatement dropReports =
          connection.prepareStatement("DELETE FROM validator_report WHERE id <= (SELECT MAX(id) FROM validator_report) - ?")) {
        dropReports.setInt(1, keepReports);
        dropReports.executeUpdate();
      }
      try (PreparedStatement dropValidators =
          connection.prepareStatement(
              "DELETE FROM validator_status WHERE hotkey IN"
                  + " (SELECT hotkey FROM validator_status ORDER BY last_report_at DESC, hotkey OFFSET ? ROWS)")) {
        dropValidators.setInt(1, keepValidators);
        dropValidators.executeUpdate();
      }
    }
  }

  private static boolean updateValidatorStatus(Connection connection, ValidatorReport report) throws SQLException {
    try (PreparedStatement update =
        connection.prepareStatement(
            "UPDATE validator_status SET uid = COALESCE(?, uid), coldkey = COALESCE(?, coldkey), git_commit = COALESCE(?, git_commit),"
                + " bittensor_version = COALESCE(?, bittensor_version), last_block = COALESCE(?, last_block), last_report_at = ?,"
                + " reports = reports + 1 WHERE hotkey = ?")) {
      setValidatorValues(update, report);
      update.setString(7, report.hotkey());
      return update.executeUpdate() > 0;
    }
  }

  private static void insertValidatorStatus(Connection connection, ValidatorReport report) throws SQLException {
    try (PreparedStatement insert =
        connection.prepareStatement(
            "INSERT INTO validator_status (uid, coldkey, git_commit, bittensor_version, last_block, last_report_at, hotkey, reports)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, 1)")) {
      setValidatorValues(insert, report);
      insert.setString(7, report.hotkey());
      insert.executeUpdate();
    }
  }

  /** Parameters 1-6 of both statements: uid, coldkey, commit, version, block, time. */
  private static void setValidatorValues(PreparedStatement statement, ValidatorReport report) throws SQLException {
    statement.setObject(1, report.uid(), java.sql.Types.INTEGER);
    statement.setString(2, report.coldkey());
    statement.setString(3, report.gitCommit());
    statement.setString(4, report.bittensorVersion());
    statement.setObject(5, report.block(), java.sql.Types.BIGINT);
    statement.setTimestamp(6, java.sql.Timestamp.from(report.at()));
  }

  /** Up to {@code limit} validators, the latest to report first. */
  public List<ValidatorStatus> validators(int limit) throws SQLException {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement query =
            connection.prepareStatement(
                "SELECT hotkey, uid, coldkey, git_commit, bittensor_version, last_block, last_report_at, reports FROM validator_status"
                    + " ORDER BY last_report_at DESC, hotkey")) {
      query.setMaxRows(limit);
      try (ResultSet rows = query.executeQuery()) {
        List<ValidatorStatus> validators = new ArrayList<>();
        while (rows.next()) {
          validators.add(
              new ValidatorStatus(
                  rows.getString(1), rows.getObject(2, Integer.class), rows.getString(3), rows.getString(4), rows.getString(5),
                  rows.getObject(6, Long.class), rows.getTimestamp(7).toInstant(), rows.getLong(8)));
        }
        return validators;
      }
    }
  }

  public Optional<ModelRow> model(String hash) throws SQLException {
    return queryOne(ModelRow.SELECT + " WHERE hash = ?", hash);
  }

  /** Up to {@code limit} models, best total score first (unscored last, then oldest first). */
  public List<ModelRow> leaderboard(int limit) throws SQLException {
    return query(ModelRow.SELECT + " ORDER BY total_score DESC NULLS LAST, submitted_at, hash", limit);
  }

  /** As {@link #leaderboard(int)}, only the models whose current score was produced under {@code fingerprint}. */
  public List<ModelRow> leaderboard(int limit, String fingerprint) throws SQLException {
    return query(ModelRow.SELECT + " WHERE scoring_fingerprint = ? ORDER BY total_score DESC NULLS LAST, submitted_at, hash", limit, fingerprint);
  }

  /**
   * Up to {@code limit} models waiting or being evaluated (pending rescores included): running first, then in
   * precheck, then queued; oldest first.
   */
  public List<ModelRow> pipeline(int limit) throws SQLException {
    return query(
        ModelRow.SELECT
            + " WHERE status IN ('QUEUED', 'PRECHECK', 'RUNNING') OR " + ReadSideProjection.RESCORE_PENDING
            + " ORDER BY CASE " + ATTEMPT_STATUS + " WHEN 'RUNNING' THEN 0 WHEN 'PRECHECK' THEN 1 ELSE 2 END, submitted_at, hash",
        limit);
  }

  /** Every model (or pending rescore) in precheck or running, with the worker holding its attempt. */
  public List<ModelRow> evaluating() throws SQLException {
    return query(ModelRow.SELECT + " WHERE status IN ('PRECHECK', 'RUNNING') OR rescore_status IN ('PRECHECK', 'RUNNING') ORDER BY hash", 0);
  }

  /**
   * Up to {@code limit} COMPLETED models without a pending rescore whose score was produced under another
   * fingerprint than {@code fingerprint} (or under none; {@code all}: any), after {@code afterHash} in hash
   * order: one page of a rescore's candidates. The models' entities decide for good.
   */
  public List<String> rescoreCandidates(String fingerprint, String afterHash, int limit) throws SQLException {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement =
            connection.prepareStatement(
                "SELECT hash FROM model_record WHERE status = 'COMPLETED' AND (rescore_status IS NULL OR NOT " + ReadSideProjection.RESCORE_PENDING + ")"
                    + " AND (? OR scoring_fingerprint IS NULL OR scoring_fingerprint <> ?) AND hash > ? ORDER BY hash")) {
      statement.setBoolean(1, ALL_FINGERPRINTS.equals(fingerprint));
      statement.setString(2, fingerprint);
      statement.setString(3, afterHash);
      statement.setMaxRows(limit);
      try (ResultSet rows = statement.executeQuery()) {
        List<String> hashes = new ArrayList<>();
        while (rows.next()) hashes.add(rows.getString(1));
        return hashes;
      }
    }
  }

  /** The fingerprint argument of {@link #rescoreCandidates} for every completed model. */
  public static final String ALL_FINGERPRINTS = ModelEvaluation.ALL_FINGERPRINTS;

  /** One result in a model's history: completed with scores, or failed with why. */
  public record HistoryRow(
      int attempt, ModelStatus outcome, boolean rescore, String scoringFingerprint, String source, Scores scores,
      Failure failure, Instant at) {}

  /** The latest {@code limit} results of the model, newest first. */
  public List<HistoryRow> scoreHistory(String hash, int limit) throws SQLException {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement =
            connection.prepareStatement(
                "SELECT attempt, outcome, rescore, scoring_fingerprint, source, model_size_score, qualitative_score, latency_score, total_score,"
                    + " coherence_score, creativity_score, post_eval_score, judge_score, failure_reason, failure_category, at"
                    + " FROM score_history WHERE hash = ? ORDER BY attempt DESC")) {
      statement.setString(1, hash);
      statement.setMaxRows(limit);
      try (ResultSet rows = statement.executeQuery()) {
        List<HistoryRow> history = new ArrayList<>();
        while (rows.next()) {
          history.add(
              new HistoryRow(
                  rows.getInt("attempt"), ModelStatus.valueOf(rows.getString("outcome")), rows.getBoolean("rescore"),
                  rows.getString("scoring_fingerprint"), rows.getString("source"), ModelRow.scores(rows, ""),
                  ModelRow.failure(rows.getString("failure_reason"), rows.getString("failure_category")), rows.getTimestamp("at").toInstant()));
        }
        return history;
      }
    }
  }

  private Optional<ModelRow> queryOne(String sql, Object... parameters) throws SQLException {
    return query(sql, 1, parameters).stream().findFirst();
  }

  private List<ModelRow> query(String sql, int limit, Object... parameters) throws SQLException {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = connection.prepareStatement(sql)) {
      for (int i = 0; i < parameters.length; i++) statement.setObject(i + 1, parameters[i]);
      statement.setMaxRows(limit);
      try (ResultSet rows = statement.executeQuery()) {
        List<ModelRow> models = new ArrayList<>();
        while (rows.next()) models.add(ModelRow.read(rows, ""));
        return models;
      }
    }
  }

  @Override
  public void close() {
    dataSource.close();
  }
}
