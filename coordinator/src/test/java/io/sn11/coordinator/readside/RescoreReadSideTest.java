package io.sn11.coordinator.readside;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.sn11.cluster.domain.EvaluationInfo;
import io.sn11.cluster.domain.Failure;
import io.sn11.cluster.domain.FailureCategory;
import io.sn11.cluster.domain.ModelDetails;
import io.sn11.cluster.domain.ModelStatus;
import io.sn11.cluster.domain.Scores;
import io.sn11.coordinator.evaluation.ModelEvaluation;
import io.sn11.coordinator.readside.ReadSide.AttemptRow;
import io.sn11.coordinator.readside.ReadSide.HistoryRow;
import io.sn11.coordinator.testing.TestDatabases;
import io.sn11.coordinator.testing.TestDatabases.Kind;
import java.nio.file.Path;
import io.sn11.coordinator.CoordinatorSettings;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Rescores and score histories on both databases the coordinator runs on, the model's events applied by the
 * read-side projection: a model being rescored stays COMPLETED with its score, its rescore is queued after new
 * models, and every result joins its history with the fingerprint it was produced under.
 */
class RescoreReadSideTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private static final Scores OLD = new Scores(0.9, 0.5, 0.8, 0.42, 0.97, 0.6, null, 0.42);
  private static final Scores NEW = new Scores(0.9, 0.4, 0.6, 0.31, 0.96, 0.5, null, 0.31);
  @TempDir static Path tmp;
  private static TestDatabases databases;

  @BeforeAll
  static void databases() {
    databases = new TestDatabases(tmp);
  }

  @AfterAll
  static void stopPostgres() throws Exception {
    if (databases != null) databases.close();
  }

  private static ModelDetails model(String hash) {
    return new ModelDetails(hash, "ns", "repo-" + hash, "chatml", "5Hotkey" + hash, 100, "main", null);
  }

  private static void apply(ReadSide readSide, String hash, ModelEvaluation.Event... events) throws Exception {
    try (Connection connection = readSide.dataSource().getConnection()) {
      for (ModelEvaluation.Event event : events) ReadSideProjection.apply(connection, "ModelEvaluation|" + hash, event);
    }
  }

  private static Map<String, String> fingerprint(String fingerprint) {
    return Map.of(EvaluationInfo.SCORING_FINGERPRINT, fingerprint, "content_hash", "c0ffee");
  }

  private static ModelRow row(ReadSide readSide, String hash) throws Exception {
    return readSide.model(hash).orElseThrow();
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void aRescoreKeepsTheModelCompletedWithItsScoreAndTheHistoryKeepsEveryResult(Kind kind) throws Exception {
    try (ReadSide readSide = ReadSide.open(databases.fresh(kind).settings(2))) {
      apply(
          readSide, "1",
          new ModelEvaluation.Submitted(model("1"), null, T0),
          new ModelEvaluation.PrecheckStarted(1, "gpu-1", T0.plusSeconds(1)),
          new ModelEvaluation.RunningStarted(1, T0.plusSeconds(2)),
          new ModelEvaluation.EvaluationCompleted(1, OLD, ModelEvaluation.EVALUATION_SOURCE, fingerprint("fp-old"), T0.plusSeconds(3)),
          new ModelEvaluation.RescoreRequested("fp-new", "scoring changed", "request-1", T0.plusSeconds(10)));
      // A new model submitted after the rescore was requested is still offered first.
      apply(readSide, "2", new ModelEvaluation.Submitted(model("2"), null, T0.plusSeconds(20)));

      ModelRow queued = row(readSide, "1");
      assertEquals(ModelStatus.COMPLETED, queued.status());
      assertEquals(OLD, queued.scores());
      assertEquals("fp-old", queued.scoringFingerprint());
      assertEquals(new ModelRow.Rescore(ModelStatus.QUEUED, "fp-new", T0.plusSeconds(10), null), queued.rescore());
      assertEquals(ModelStatus.QUEUED, queued.attemptStatus());
      assertEquals(List.of(new AttemptRow("2", ModelStatus.QUEUED, 0), new AttemptRow("1", ModelStatus.QUEUED, 1)), readSide.queuedModels(10));
      assertEquals(List.of(new AttemptRow("2", ModelStatus.QUEUED, 0)), readSide.queuedModels(1));
      assertEquals(Map.of(ModelStatus.COMPLETED, 1, ModelStatus.QUEUED, 1), readSide.modelsByStatus());

      apply(readSide, "1", new ModelEvaluation.PrecheckStarted(2, "gpu-2", T0.plusSeconds(30)));
      ModelRow precheck = row(readSide, "1");
      assertEquals(ModelStatus.COMPLETED, precheck.status());
      assertEquals(ModelStatus.PRECHECK, precheck.rescore().status());
      assertEquals(2, precheck.attempt());
      assertEquals(List.of(new AttemptRow("1", ModelStatus.PRECHECK, 2)), readSide.activeAttempts());
      assertEquals(List.of("1"), readSide.evaluating().stream().map(m -> m.details().hash()).toList());
      assertEquals(List.of(new AttemptRow("2", ModelStatus.QUEUED, 0)), readSide.queuedModels(10));

      // An abandoned attempt sends the rescore back to its queue; the model stays COMPLETED.
      apply(readSide, "1", new ModelEvaluation.Requeued("gpu-2 left", T0.plusSeconds(40)));
      assertEquals(ModelStatus.COMPLETED, row(readSide, "1").status());
      assertEquals(ModelStatus.QUEUED, row(readSide, "1").rescore().status());
      apply(
          readSide, "1",
          new ModelEvaluation.PrecheckStarted(3, "gpu-3", T0.plusSeconds(50)),
          new ModelEvaluation.RunningStarted(3, T0.plusSeconds(51)));
      ModelRow running = row(readSide, "1");
      assertEquals(ModelStatus.COMPLETED, running.status());
      assertEquals(ModelStatus.RUNNING, running.attemptStatus());
      assertEquals(OLD, running.scores());
      // The pipeline shows the running rescore first, then the queued model.
      assertEquals(List.of("1", "2"), hashes(readSide.pipeline(10)));

      apply(readSide, "1", new ModelEvaluation.EvaluationCompleted(3, NEW, ModelEvaluation.EVALUATION_SOURCE, fingerprint("fp-new"), T0.plusSeconds(60)));
      ModelRow done = row(readSide, "1");
      assertEquals(ModelStatus.COMPLETED, done.status());
      assertEquals(NEW, done.scores());
      assertEquals("fp-new", done.scoringFingerprint());
      assertNull(done.rescore());
      assertEquals(
          List.of(
              new HistoryRow(3, ModelStatus.COMPLETED, true, "fp-new", ModelEvaluation.EVALUATION_SOURCE, NEW, null, T0.plusSeconds(60)),
              new HistoryRow(1, ModelStatus.COMPLETED, false, "fp-old", ModelEvaluation.EVALUATION_SOURCE, OLD, null, T0.plusSeconds(3))),
          readSide.scoreHistory("1", 10));

      assertEquals(List.of("1"), hashes(readSide.leaderboard(10, "fp-new")));
      assertEquals(List.of(), hashes(readSide.leaderboard(10, "fp-old")));
      assertEquals(List.of(), readSide.rescoreCandidates("fp-new", "", 10));
      assertEquals(List.of("1"), readSide.rescoreCandidates("fp-old", "", 10));
      assertEquals(List.of("1"), readSide.rescoreCandidates("all", "", 10));

      // A rescore that fails leaves the score current; the failure joins the history.
      Failure minerFault = new Failure("repository not found", FailureCategory.MINER);
      apply(
          readSide, "1",
          new ModelEvaluation.RescoreRequested("all", "scoring changed", "request-2", T0.plusSeconds(70)),
          new ModelEvaluation.PrecheckStarted(4, "gpu-1", T0.plusSeconds(71)),
          new ModelEvaluation.EvaluationFailed(4, minerFault, T0.plusSeconds(72)));
      ModelRow failed = row(readSide, "1");
      assertEquals(ModelStatus.COMPLETED, failed.status());
      assertNull(failed.failure());
      assertEquals(NEW, failed.scores());
      assertEquals(new ModelRow.Rescore(ModelStatus.FAILED, "all", T0.plusSeconds(70), minerFault), failed.rescore());
      assertEquals(List.of(), readSide.activeAttempts());
      // Completed again and not rescore-pending: a candidate of the next rescore.
      assertEquals(List.of("1"), readSide.rescoreCandidates("fp-old", "", 10));
      List<HistoryRow> history = readSide.scoreHistory("1", 10);
      assertEquals(
          new HistoryRow(4, ModelStatus.FAILED, true, null, null, Scores.NONE, minerFault, T0.plusSeconds(72)), history.getFirst());
      assertEquals(3, history.size());

      // A replayed result replaces its attempt's row rather than adding one.
      apply(readSide, "1", new ModelEvaluation.EvaluationCompleted(3, NEW, ModelEvaluation.EVALUATION_SOURCE, fingerprint("fp-new"), T0.plusSeconds(60)));
      assertEquals(3, readSide.scoreHistory("1", 10).size());
      assertEquals(2, readSide.scoreHistory("1", 2).size());
    }
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void anImportedResultHasNoFingerprintAndAnOrdinaryFailureIsTheModels(Kind kind) throws Exception {
    try (ReadSide readSide = ReadSide.open(databases.fresh(kind).settings(2))) {
      apply(
          readSide, "7",
          new ModelEvaluation.Submitted(model("7"), null, T0),
          new ModelEvaluation.EvaluationCompleted(1, OLD, "import", Map.of(), T0.plusSeconds(1)));
      assertNull(row(readSide, "7").scoringFingerprint());
      assertEquals(List.of("7"), readSide.rescoreCandidates("fp-new", "", 10));
      assertEquals(
          List.of(new HistoryRow(1, ModelStatus.COMPLETED, false, null, "import", OLD, null, T0.plusSeconds(1))), readSide.scoreHistory("7", 10));

      Failure minerFault = new Failure("bad weights", FailureCategory.MINER);
      apply(
          readSide, "8",
          new ModelEvaluation.Submitted(model("8"), null, T0),
          new ModelEvaluation.PrecheckStarted(1, "gpu-1", T0.plusSeconds(1)),
          new ModelEvaluation.EvaluationFailed(1, minerFault, T0.plusSeconds(2)));
      assertEquals(ModelStatus.FAILED, row(readSide, "8").status());
      assertEquals(minerFault, row(readSide, "8").failure());
      assertNull(row(readSide, "8").rescore());
      assertEquals(
          List.of(new HistoryRow(1, ModelStatus.FAILED, false, null, null, Scores.NONE, minerFault, T0.plusSeconds(2))), readSide.scoreHistory("8", 10));
      // Only COMPLETED models are rescored, in hash order a page at a time.
      assertEquals(List.of("7"), readSide.rescoreCandidates("all", "", 10));
      assertEquals(List.of(), readSide.rescoreCandidates("all", "7", 10));
    }
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void theResultsProjectedBeforeTheHistoryExistedStartItWithEachCompletedModelsScore(Kind kind) throws Exception {
    TestDatabases.Jdbc jdbc = databases.fresh(kind);
    CoordinatorSettings.Database database = jdbc.settings(2);
    // The schema as it was before V8, with a COMPLETED model (attempt 2), and a model being evaluated again.
    Flyway.configure()
        .configuration(Map.of("flyway.postgresql.transactional.lock", "false"))
        .dataSource(database.url(), database.user(), database.password())
        .locations("classpath:db/migration")
        .javaMigrations(new V1__PersistencePluginSchema(database.dialect()))
        .target("7")
        .load()
        .migrate();
    try (Connection connection = jdbc.connect();
        PreparedStatement insert =
            connection.prepareStatement(
                "INSERT INTO model_record (hash, repo_namespace, repo_name, chat_template_type, hotkey, block, status, accepted, attempt,"
                    + " score_source, total_score, judge_score, submitted_at, updated_at, repository_key)"
                    + " VALUES (?, 'ns', ?, 'chatml', 'hk', 1, ?, TRUE, ?, 'evaluation', 0.42, 0.42, ?, ?, ?)")) {
      for (Object[] row : new Object[][] {{"11", "COMPLETED", 2}, {"12", "RUNNING", 3}}) {
        insert.setString(1, (String) row[0]);
        insert.setString(2, "repo-" + row[0]);
        insert.setString(3, (String) row[1]);
        insert.setInt(4, (Integer) row[2]);
        insert.setTimestamp(5, Timestamp.from(T0));
        insert.setTimestamp(6, Timestamp.from(T0.plusSeconds(5)));
        insert.setString(7, "ns/repo-" + row[0]);
        insert.executeUpdate();
      }
    }
    try (ReadSide readSide = ReadSide.open(database)) {
      Scores scores = new Scores(null, null, null, 0.42, null, null, null, 0.42);
      assertEquals(
          List.of(new HistoryRow(2, ModelStatus.COMPLETED, false, null, "evaluation", scores, null, T0.plusSeconds(5))), readSide.scoreHistory("11", 10));
      assertEquals(List.of(), readSide.scoreHistory("12", 10));
      assertNull(row(readSide, "11").scoringFingerprint());
      assertNull(row(readSide, "11").rescore());
    }
  }

  private static List<String> hashes(List<ModelRow> rows) {
    return rows.stream().map(m -> m.details().hash()).toList();
  }
}
