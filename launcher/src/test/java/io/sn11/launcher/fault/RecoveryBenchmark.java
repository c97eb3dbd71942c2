package io.sn11.launcher.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sn11.cluster.domain.ModelDetails;
import io.sn11.cluster.domain.ModelStatus;
import io.sn11.cluster.node.NodeConfig;
import io.sn11.cluster.node.Sn11Node;
import io.sn11.coordinator.CoordinatorRole;
import io.sn11.coordinator.evaluation.ModelEvaluation;
import io.sn11.coordinator.http.ApiNode;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How long a coordinator takes to bring back a model entity whose journal holds 100,000 events, with
 * snapshots and without. Not a test of behaviour, a measurement: run it with
 * {@code mvn -B -Pfault -pl launcher -am verify -Dsn11.excluded.test.groups= -Dtest=RecoveryBenchmark -Dsurefire.failIfNoSpecifiedTests=false}.
 *
 * <p>The first three events come from commands; the progress events up to 99,999 are written straight
 * into the journal table in batches, serialized by the node's own serializer exactly as the plugin
 * writes them (100,000 one-by-one commands take too long on a small machine); the last one is a command
 * again, so that the entity snapshots at 100,000.
 */
@Tag("bench")
class RecoveryBenchmark {
  private static final int EVENTS = 100_000;
  private static final Duration ASK = Duration.ofMinutes(5);
  private static final String HASH = "1000000000000000042";
  private static final String PERSISTENCE_ID = "ModelEvaluation|" + HASH;

  @TempDir Path tmp;

  @Test
  void recoveryOfAnEntityWith100000Events() throws Exception {
    try (EmbeddedPostgres postgres = EmbeddedPostgres.builder().start()) {
      String url = postgres.getJdbcUrl("postgres", "postgres");
      try (Sn11Node node = startNode(url, 100)) {
        command(node, r -> new ModelEvaluation.Submit(new ModelDetails(HASH, "bench", "many-events", "chatml", "5Bench", 1L, "main", null), ModelEvaluation.Admission.ACCEPTED, r));
        command(node, r -> new ModelEvaluation.Claim("bench-worker", r));
        command(node, r -> new ModelEvaluation.StartRunning(1, r));
        writeProgressEvents(node, url, 4, EVENTS - 1);
      }
      // A node that recovers the 99,999 events, then takes event 100,000 and snapshots it.
      try (Sn11Node node = startNode(url, 100)) {
        assertEquals(ModelStatus.RUNNING, command(node, r -> new ModelEvaluation.ReportProgress(1, "eval", 1.0, r)).status());
        ApiNode.await("the snapshot at " + EVENTS, () -> count(url, "SELECT COUNT(*) FROM snapshot WHERE persistence_id = ? AND sequence_number = " + EVENTS), n -> n == 1);
      }
      assertEquals(EVENTS, count(url, "SELECT COUNT(*) FROM event_journal WHERE persistence_id = ?"));

      long withSnapshot = millisToRecover(url, 100);
      try (Connection connection = DriverManager.getConnection(url, "postgres", "");
          Statement statement = connection.createStatement()) {
        statement.executeUpdate("DELETE FROM snapshot");
      }
      long withoutSnapshot = millisToRecover(url, 1_000_000);
      System.out.printf(
          "BENCH recovery of a coordinator whose journal holds %d events of one entity (node start to the entity's answer): "
              + "with a snapshot %d ms, without snapshots %d ms%n",
          EVENTS, withSnapshot, withoutSnapshot);
    }
  }

  /** From a node's start to the entity answering Get (its recovery included). */
  private long millisToRecover(String url, int snapshotEvery) throws Exception {
    long started = System.nanoTime();
    try (Sn11Node node = startNode(url, snapshotEvery)) {
      ModelEvaluation.State state = command(node, ModelEvaluation.Get::new);
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      assertEquals(ModelStatus.RUNNING, state.status());
      return millis;
    }
  }

  private void writeProgressEvents(Sn11Node node, String url, long from, long to) throws Exception {
    Serialization serialization = SerializationExtension.get(Adapter.toClassic(node.system()));
    String writer = UUID.randomUUID().toString();
    try (Connection connection = DriverManager.getConnection(url, "postgres", "");
        PreparedStatement insert =
            connection.prepareStatement(
                "INSERT INTO event_journal (persistence_id, sequence_number, deleted, writer, write_timestamp, adapter_manifest, event_ser_id, event_ser_manifest, event_payload)"
                    + " VALUES (?, ?, false, ?, ?, '', ?, ?, ?)")) {
      connection.setAutoCommit(false);
      for (long sequenceNr = from; sequenceNr <= to; sequenceNr++) {
        ModelEvaluation.ProgressReported event = new ModelEvaluation.ProgressReported(1, "eval", (sequenceNr % 1000) / 1000.0, Instant.now());
        Serializer serializer = serialization.findSerializerFor(event);
        insert.setString(1, PERSISTENCE_ID);
        insert.setLong(2, sequenceNr);
        insert.setString(3, writer);
        insert.setLong(4, System.currentTimeMillis());
        insert.setInt(5, serializer.identifier());
        insert.setString(6, Serializers.manifestFor(serializer, event));
        insert.setBytes(7, serializer.toBinary(event));
        insert.addBatch();
        if (sequenceNr % 5_000 == 0) insert.executeBatch();
      }
      insert.executeBatch();
      connection.commit();
    }
  }

  /** A count query about the entity's persistence id. */
  private static long count(String url, String query) throws Exception {
    try (Connection connection = DriverManager.getConnection(url, "postgres", "");
        PreparedStatement count = connection.prepareStatement(query)) {
      count.setString(1, PERSISTENCE_ID);
      try (var rows = count.executeQuery()) {
        rows.next();
        return rows.getLong(1);
      }
    }
  }

  private Sn11Node startNode(String url, int snapshotEvery) throws Exception {
    Map<String, Object> options = new TreeMap<>();
    options.put("sn11.data-dir", tmp.resolve("coordinator").toString());
    options.put("sn11.database.url", url);
    options.put("sn11.database.user", "postgres");
    options.put("sn11.database.password", "");
    options.put("sn11.coordinator.http.port", 0);
    options.put("sn11.coordinator.snapshot-every", snapshotEvery);
    options.put("pekko.remote.artery.canonical.port", 0);
    return Sn11Node.start(NodeConfig.load(options, ClusterProcesses.repositoryFile("config/postgres.conf"), "single-node.conf"), List.of(new CoordinatorRole()));
  }

  private static ModelEvaluation.State command(Sn11Node node, Function<ActorRef<StatusReply<ModelEvaluation.State>>, ModelEvaluation.Command> command)
      throws Exception {
    return ClusterSharding.get(node.system())
        .entityRefFor(ModelEvaluation.TYPE_KEY, HASH)
        .askWithStatus(command::apply, ASK)
        .toCompletableFuture()
        .get(ASK.toSeconds() + 5, TimeUnit.SECONDS);
  }
}
