package io.sn11.coordinator.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sn11.cluster.domain.Failure;
import io.sn11.cluster.domain.FailureCategory;
import io.sn11.cluster.domain.ModelDetails;
import io.sn11.cluster.domain.ModelStatus;
import io.sn11.cluster.domain.Scores;
import io.sn11.cluster.node.NodeConfig;
import io.sn11.cluster.node.Sn11Node;
import io.sn11.coordinator.CoordinatorRole;
import io.sn11.coordinator.CoordinatorSettings;
import io.sn11.coordinator.evaluation.ModelEvaluation;
import io.sn11.coordinator.readside.ModelRow;
import io.sn11.coordinator.readside.ReadSide;
import io.sn11.coordinator.readside.RegistryRow;
import io.sn11.coordinator.registry.MinerRegistration;
import io.sn11.coordinator.testing.Eventually;
import io.sn11.coordinator.testing.TestDatabases;
import io.sn11.coordinator.testing.TestDatabases.Kind;
import io.sn11.coordinator.weights.WeightsLedger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A real coordinator node on H2 (a file) and on PostgreSQL (embedded): entities driven through cluster
 * sharding, the read side projected from their events, then the node closed and a new one started on
 * the same database. Everything must come back from the journal; the journal must hold exactly the
 * events the commands called for, no more.
 */
// Preemptive: a migration or recovery that hangs (it has: CREATE INDEX CONCURRENTLY under Flyway's lock) fails
// the test instead of the build.
@Timeout(value = 3, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class JournalPersistenceTest {
  private static final Duration ASK = Duration.ofSeconds(20);
  private static final Duration READ_SIDE = Duration.ofSeconds(30);
  private static final Scores SCORES = new Scores(0.9, 0.5, 0.8, 0.42, 0.97, 0.6, null, 0.42);
  private static final AtomicInteger NODES = new AtomicInteger();

  @TempDir static Path tmp;
  private static TestDatabases databases;

  /** One fresh database, the operator file that selects its dialect (none for H2) and the node's data folder. */
  record Database(TestDatabases.Jdbc jdbc, Path operatorFile, Path dataDir) {
    Connection connect() throws SQLException {
      return jdbc.connect();
    }

    CoordinatorSettings.Database settings() {
      return jdbc.settings(2);
    }
  }

  @BeforeAll
  static void databases() {
    databases = new TestDatabases(tmp.resolve("databases"));
  }

  @AfterAll
  static void stopPostgres() throws Exception {
    if (databases != null) databases.close();
  }

  private static Database freshDatabase(Kind kind) throws Exception {
    TestDatabases.Jdbc jdbc = databases.fresh(kind);
    Path dataDir = Files.createDirectories(tmp.resolve("node-" + NODES.incrementAndGet()));
    return new Database(jdbc, kind == Kind.POSTGRES ? postgresConf() : null, dataDir);
  }

  /** The operator-facing config/postgres.conf, layered as an operator would pass it. */
  private static Path postgresConf() {
    for (Path candidate : List.of(Path.of("..", "config", "postgres.conf"), Path.of("config", "postgres.conf"))) {
      if (Files.isRegularFile(candidate)) return candidate;
    }
    throw new IllegalStateException("config/postgres.conf not found from " + Path.of("").toAbsolutePath());
  }

  private static Sn11Node startNode(Database db, int snapshotEvery) throws Exception {
    Map<String, Object> options = new TreeMap<>();
    options.put("sn11.data-dir", db.dataDir().toString());
    options.put("sn11.database.url", db.jdbc().url());
    options.put("sn11.database.user", db.jdbc().user());
    options.put("sn11.database.password", db.jdbc().password());
    options.put("sn11.database.read-side-pool-size", 4);
    options.put("sn11.coordinator.http.port", 0);
    options.put("sn11.coordinator.snapshot-every", snapshotEvery);
    options.put("sn11.coordinator.projection-parallelism", 2);
    return Sn11Node.start(NodeConfig.load(options, db.operatorFile(), "single-node.conf"), List.of(new CoordinatorRole()));
  }

  private static <T> T await(CompletionStage<T> answer) throws Exception {
    return answer.toCompletableFuture().get(ASK.toSeconds() + 5, TimeUnit.SECONDS);
  }

  private static EntityRef<ModelEvaluation.Command> model(Sn11Node node, String hash) {
    return ClusterSharding.get(node.system()).entityRefFor(ModelEvaluation.TYPE_KEY, hash);
  }

  private static EntityRef<MinerRegistration.Command> miner(Sn11Node node, int uid) {
    return ClusterSharding.get(node.system()).entityRefFor(MinerRegistration.TYPE_KEY, Integer.toString(uid));
  }

  private static EntityRef<WeightsLedger.Command> ledger(Sn11Node node) {
    return ClusterSharding.get(node.system()).entityRefFor(WeightsLedger.TYPE_KEY, WeightsLedger.LEDGER_ID);
  }

  private static ModelEvaluation.State getModel(Sn11Node node, String hash) throws Exception {
    return await(model(node, hash).askWithStatus(ModelEvaluation.Get::new, ASK));
  }

  private static ModelEvaluation.State modelCommand(
      Sn11Node node, String hash, Function<ActorRef<StatusReply<ModelEvaluation.State>>, ModelEvaluation.Command> command)
      throws Exception {
    return await(model(node, hash).askWithStatus(command::apply, ASK));
  }

  private static MinerRegistration.State minerCommand(
      Sn11Node node, int uid, Function<ActorRef<StatusReply<MinerRegistration.State>>, MinerRegistration.Command> command)
      throws Exception {
    return await(miner(node, uid).askWithStatus(command::apply, ASK));
  }

  private static WeightsLedger.State ledgerCommand(
      Sn11Node node, Function<ActorRef<StatusReply<WeightsLedger.State>>, WeightsLedger.Command> command) throws Exception {
    return await(ledger(node).askWithStatus(command::apply, ASK));
  }

  private static ModelDetails details(String hash, String hotkey) {
    return new ModelDetails(hash, "miner-ns", "roleplay-" + hash, "chatml", hotkey, 4_000_100L, "main", null);
  }

  /** Rows of event_journal per persistence id. */
  private static Map<String, Long> journal(Database db) throws SQLException {
    Map<String, Long> counts = new TreeMap<>();
    try (Connection connection = db.connect();
        Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery("SELECT persistence_id, COUNT(*) FROM event_journal GROUP BY persistence_id")) {
      while (rows.next()) counts.put(rows.getString(1), rows.getLong(2));
    }
    return counts;
  }

  /** The versioned migrations applied (on H2 Flyway also records a version-less marker row for the table itself). */
  /** Version 1 (the plugin's schema, a Java migration) and every SQL migration shipped, in order: each applied once. */
  private static List<String> expectedMigrations() throws Exception {
    java.net.URL folder = JournalPersistenceTest.class.getClassLoader().getResource("db/migration");
    List<String> versions = new java.util.ArrayList<>(List.of("1"));
    try (var files = java.nio.file.Files.list(java.nio.file.Path.of(folder.toURI()))) {
      files.map(f -> f.getFileName().toString())
          .filter(name -> name.matches("V\\d+__.*\\.sql"))
          .map(name -> name.substring(1, name.indexOf("__")))
          .sorted(java.util.Comparator.comparingInt(Integer::parseInt))
          .forEach(versions::add);
    }
    return versions;
  }

  private static List<String> flywayVersions(Database db) throws SQLException {
    List<String> versions = new ArrayList<>();
    try (Connection connection = db.connect();
        Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery("SELECT version FROM flyway_schema_history WHERE success AND version IS NOT NULL ORDER BY installed_rank")) {
      while (rows.next()) versions.add(rows.getString(1));
    }
    return versions;
  }

  private static List<Long> snapshotSequenceNumbers(Database db, String persistenceId) throws SQLException {
    List<Long> sequenceNumbers = new ArrayList<>();
    try (Connection connection = db.connect();
        PreparedStatement statement =
            connection.prepareStatement("SELECT sequence_number FROM snapshot WHERE persistence_id = ? ORDER BY sequence_number")) {
      statement.setString(1, persistenceId);
      try (ResultSet rows = statement.executeQuery()) {
        while (rows.next()) sequenceNumbers.add(rows.getLong(1));
      }
    }
    return sequenceNumbers;
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void everythingComesBackFromTheJournalAfterARestart(Kind kind) throws Exception {
    Database db = freshDatabase(kind);
    String scored = "1000000000000000001";
    String refused = "1000000000000000002";
    ModelEvaluation.State scoredState;
    ModelEvaluation.State refusedState;
    MinerRegistration.State minerState;
    WeightsLedger.State ledgerState;

    try (Sn11Node node = startNode(db, 100)) {
      // A model through its whole evaluation.
      modelCommand(node, scored, r -> new ModelEvaluation.Submit(details(scored, "5HotA"), ModelEvaluation.Admission.ACCEPTED, r));
      // The same submission again (a client retry) persists nothing.
      modelCommand(node, scored, r -> new ModelEvaluation.Submit(details(scored, "5HotA"), ModelEvaluation.Admission.ACCEPTED, r));
      assertEquals(1, modelCommand(node, scored, r -> new ModelEvaluation.Claim("gpu-1", r)).attempt());
      modelCommand(node, scored, r -> new ModelEvaluation.StartRunning(1, r));
      modelCommand(node, scored, r -> new ModelEvaluation.ReportProgress(1, "generation", 0.5, r));
      scoredState =
          modelCommand(node, scored, r -> new ModelEvaluation.Complete(1, SCORES, Map.of("content_hash", "c0ffee"), List.of(), r));
      assertEquals(ModelStatus.COMPLETED, scoredState.status());
      // A duplicate delivery of the result: no event.
      modelCommand(node, scored, r -> new ModelEvaluation.Complete(1, SCORES, Map.of("content_hash", "c0ffee"), List.of(), r));

      // A model refused by the submission rules.
      refusedState =
          modelCommand(
              node, refused, r -> new ModelEvaluation.Submit(details(refused, "5HotB"), new ModelEvaluation.Admission("rate limited", null), r));
      assertEquals(ModelStatus.FAILED, refusedState.status());

      // A miner and its commitment, sent twice as the validators do.
      minerState = minerCommand(node, 7, r -> new MinerRegistration.Update(scored, "5HotA", 4_000_100L, r));
      assertEquals(minerState, minerCommand(node, 7, r -> new MinerRegistration.Update(scored, "5HotA", 4_000_100L, r)));

      // The weights, folded at block 10 and asked again at the same block.
      ledgerState = ledgerCommand(node, r -> new WeightsLedger.Fold(10, Map.of(7, 1.0), 0.1, r));
      assertEquals(0.1, ledgerState.average().get(7), 1e-12);
      assertEquals(ledgerState, ledgerCommand(node, r -> new WeightsLedger.Fold(10, Map.of(7, 0.0), 0.1, r)));

      try (ReadSide readSide = ReadSide.open(db.settings())) {
        Eventually.await(
            READ_SIDE,
            () -> readSide.model(scored).map(m -> m.status() == ModelStatus.COMPLETED).orElse(false)
                && readSide.model(refused).isPresent()
                && readSide.registry().size() == 1);
        ModelRow row = readSide.model(scored).orElseThrow();
        assertEquals(details(scored, "5HotA"), row.details());
        assertTrue(row.accepted());
        assertEquals(1, row.attempt());
        assertEquals(SCORES, row.scores());
        assertEquals("c0ffee", row.contentHash());
        ModelRow refusedRow = readSide.model(refused).orElseThrow();
        assertEquals(ModelStatus.FAILED, refusedRow.status());
        assertTrue(!refusedRow.accepted());
        assertEquals(new Failure("rate limited", FailureCategory.MINER), refusedRow.failure());
        RegistryRow registry = readSide.registry().get(0);
        assertEquals(7, registry.uid());
        assertEquals(scored, registry.hash());
        assertEquals("5HotA", registry.hotkey());
        assertEquals(Optional.of(row), registry.model());
      }
    }

    Map<String, Long> expectedJournal =
        Map.of(
            "ModelEvaluation|" + scored, 5L,
            "ModelEvaluation|" + refused, 2L,
            "MinerRegistration|7", 1L,
            "WeightsLedger|ema", 1L);
    assertEquals(expectedJournal, journal(db));

    // A new node on the same database: the migrations are not run again, and every state is back.
    try (Sn11Node node = startNode(db, 100)) {
      assertEquals(expectedMigrations(), flywayVersions(db));
      assertEquals(scoredState, getModel(node, scored));
      assertEquals(refusedState, getModel(node, refused));
      assertEquals(minerState, await(miner(node, 7).ask(MinerRegistration.Get::new, ASK)));
      assertEquals(ledgerState, await(ledger(node).ask(WeightsLedger.Get::new, ASK)));
      assertEquals(expectedJournal, journal(db), "recovery persists nothing");

      // The entities go on from where they were: the ledger folds on top of the restored average,
      // a re-evaluation takes the next attempt, and the projection resumes from its stored offset
      // (replaying from the start would fail inserting the model row a second time).
      WeightsLedger.State folded = ledgerCommand(node, r -> new WeightsLedger.Fold(20, Map.of(7, 1.0), 0.1, r));
      assertEquals(0.9 * 0.1 + 0.1 * 1.0, folded.average().get(7), 1e-12);
      assertEquals(2, folded.steps());
      modelCommand(node, scored, r -> new ModelEvaluation.Requeue("re-evaluation", r));
      ModelEvaluation.State claimed = modelCommand(node, scored, r -> new ModelEvaluation.Claim("gpu-2", r));
      assertEquals(2, claimed.attempt());
      assertEquals(SCORES, claimed.scores(), "the previous scores stay visible during the re-evaluation");
      try (ReadSide readSide = ReadSide.open(db.settings())) {
        Eventually.await(
            READ_SIDE, () -> readSide.model(scored).map(m -> m.status() == ModelStatus.PRECHECK && m.attempt() == 2).orElse(false));
        assertEquals(SCORES, readSide.model(scored).orElseThrow().scores());
      }
    }
    assertEquals(7L, journal(db).get("ModelEvaluation|" + scored));
    assertEquals(2L, journal(db).get("WeightsLedger|ema"));
    assertEquals(expectedMigrations(), flywayVersions(db));
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void snapshotsBoundRecovery(Kind kind) throws Exception {
    Database db = freshDatabase(kind);
    String hash = "1000000000000000003";
    String persistenceId = "ModelEvaluation|" + hash;
    ModelEvaluation.State before;

    try (Sn11Node node = startNode(db, 3)) {
      modelCommand(node, hash, r -> new ModelEvaluation.Submit(details(hash, "5HotC"), ModelEvaluation.Admission.ACCEPTED, r));
      modelCommand(node, hash, r -> new ModelEvaluation.Claim("gpu-1", r));
      modelCommand(node, hash, r -> new ModelEvaluation.StartRunning(1, r));
      for (int i = 1; i <= 6; i++) {
        double fraction = i / 10.0;
        modelCommand(node, hash, r -> new ModelEvaluation.ReportProgress(1, "generation", fraction, r));
      }
      before = modelCommand(node, hash, r -> new ModelEvaluation.Complete(1, SCORES, Map.of(), List.of(), r));
      // Snapshots at 3, 6 and 9; the two newest are kept.
      Eventually.await(Duration.ofSeconds(10), () -> snapshotSequenceNumbers(db, persistenceId).equals(List.of(6L, 9L)));
    }
    assertEquals(10L, journal(db).get(persistenceId));

    // Recovery must start from the snapshot at 9 and replay only event 10: remove events 1..9 to prove it.
    try (Connection connection = db.connect();
        PreparedStatement statement =
            connection.prepareStatement("DELETE FROM event_journal WHERE persistence_id = ? AND sequence_number <= 9")) {
      statement.setString(1, persistenceId);
      assertEquals(9, statement.executeUpdate());
    }

    try (Sn11Node node = startNode(db, 3)) {
      assertEquals(before, getModel(node, hash));
      assertEquals(ModelStatus.COMPLETED, before.status());
      assertEquals(SCORES, before.scores());
    }
  }
}
