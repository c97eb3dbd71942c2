package io.sn11.launcher;

import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.sn11.cluster.metrics.Sn11Metrics;
import io.sn11.cluster.node.NodeConfig;
import io.sn11.cluster.node.Sn11Node;
import io.sn11.coordinator.CoordinatorRole;
import io.sn11.coordinator.evaluation.ModelEvaluation;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.pekko.persistence.typed.PersistenceId;
import picocli.CommandLine.Option;

/**
 * {@code sn11 loadtest --benchmark}: what the coordinator's work costs next to the cheapest answer the
 * same server gives, and what persisting a submission costs next to a plain insert of a row of the same
 * size into the same database. PostgreSQL, the coordinator node and the clients all run on this
 * machine, so the ratios compare like with like; the absolute figures depend on the machine.
 */
final class LoadBenchmark {
  static final String DEFAULT_DURATION_TEXT = "20s";
  static final Duration DEFAULT_DURATION = new LoadtestCommand.SecondsConverter().convert(DEFAULT_DURATION_TEXT);
  /** Models submitted before the read measurements, so that every status request finds its entity. */
  private static final int MODELS_TO_READ = 100;
  private static final String SUBMITTED_MANIFEST = ModelEvaluation.Submitted.class.getName();

  /** The options of benchmark mode, an argument group of {@code loadtest}. */
  static final class Options {
    @Option(names = "--benchmark", required = true, description = "Run the benchmark (see above); --duration is then per measurement, each after a warm-up of a quarter of it (0.5 to 5 s), and --users the concurrency of each measurement.")
    boolean enabled;

    @Option(
        names = "--db-url",
        description = "Benchmark on this PostgreSQL database (jdbc:postgresql://HOST:PORT/DB) instead of an embedded one started for the run. Its journal keeps the run's submissions; the scratch table of the plain inserts is dropped at the end.")
    String dbUrl;

    @Option(names = "--db-user", defaultValue = "postgres", description = "User of --db-url (default: ${DEFAULT-VALUE}).")
    String dbUser;

    @Option(names = "--db-password", defaultValue = "${env:SN11_DB_PASSWORD}", description = "Password of --db-url (default: $SN11_DB_PASSWORD, else none).")
    String dbPassword;
  }

  private final Options options;
  private final int users;
  private final Duration duration;
  /** Before each measurement: long enough for the JIT and the connection pools, short next to the measurement. */
  private final Duration warmUp;
  private final long block;
  private final String run = Long.toHexString(System.nanoTime());
  private final AtomicInteger submissions = new AtomicInteger();
  /** Every submission the server accepted during the run, by persistence id. */
  private final Map<String, SyntheticModel> accepted = new ConcurrentHashMap<>();

  LoadBenchmark(Options options, int users, Duration duration, long block) {
    this.options = options;
    this.users = users;
    this.duration = duration;
    this.warmUp = clamp(duration.dividedBy(4), Duration.ofMillis(500), Duration.ofSeconds(5));
    this.block = block;
  }

  /** What one measurement gave: its tally and how long it ran. */
  private record Measurement(Tally.Summary summary, double seconds) {
    double perSecond() {
      return summary.succeededPerSecond(seconds);
    }
  }

  /** The average journal row of a submission, and the values of its columns that are the same for every submission. */
  private record JournalRow(long events, double payloadBytes, double rowBytes, String writer, String adapterManifest, int serializerId) {}

  /** Everything the summary reports. */
  private record Results(
      Measurement details,
      Measurement trivial,
      Measurement submitted,
      JournalWrites journalWrites,
      JournalRow journalRow,
      PlainInserts plain,
      int acceptedCount,
      List<String> missingHashes) {}

  /** The node's own journal writes (sn11_journal_write_seconds) over a measurement: where a submission's time goes. */
  private record JournalWrites(long batches, double seconds) {
    static JournalWrites of(Sn11Metrics metrics) {
      long batches = 0;
      double seconds = 0;
      for (HistogramSnapshot.HistogramDataPointSnapshot point : metrics.journalWrites.collect().getDataPoints()) {
        batches += point.getCount();
        seconds += point.getSum();
      }
      return new JournalWrites(batches, seconds);
    }

    JournalWrites since(JournalWrites before) {
      return new JournalWrites(batches - before.batches, seconds - before.seconds);
    }
  }

  int run() throws Exception {
    Results results;
    try (Database database = Database.open(options)) {
      System.out.println("PostgreSQL: " + database.describe());
      String token = AdminToken.random();
      CoordinatorRole coordinator = new CoordinatorRole();
      try (Sn11Node node = Sn11Node.start(NodeConfig.load(nodeSettings(database, token), null, "postgres.conf", "single-node.conf"), List.of(coordinator))) {
        ApiClient api = new ApiClient();
        api.url = URI.create("http://127.0.0.1:" + coordinator.httpAddress().getPort());
        api.token = token;
        System.out.printf("coordinator on %s (journal in that database); %d users, %.1f s warm-up and %.1f s per measurement%n", api.url, users, seconds(warmUp), seconds(duration));
        results = measureAll(api, database, Sn11Metrics.get(node.system()));
      }
    }
    // Printed once the node and the database are down, so that their shutdown output comes before it.
    return printSummary(results);
  }

  private Results measureAll(ApiClient api, Database database, Sn11Metrics metrics) throws Exception {
    List<SyntheticModel> toRead = submitModelsToRead(api);
    System.out.println(Tally.HEADER);
    Measurement details = measure("details", tally -> tally.send(() -> api.get(toRead.get(ThreadLocalRandom.current().nextInt(toRead.size())).detailsPath())));
    Measurement trivial = measure("hc", tally -> tally.send(() -> api.get("/hc")));
    JournalWrites before = JournalWrites.of(metrics);
    Measurement submitted = measure("submit", tally -> submit(api, tally));
    JournalWrites writes = JournalWrites.of(metrics).since(before);
    List<String> ids = new ArrayList<>(accepted.keySet());
    List<String> missing = missingFromJournal(database, ids);
    JournalRow journalRow = journalRow(database, ids);
    return new Results(details, trivial, submitted, writes, journalRow, plainInserts(database, journalRow), ids.size(), missing);
  }

  private int printSummary(Results results) {
    System.out.println();
    System.out.printf("benchmark (same machine, %d users, %.1f s per measurement)%n", users, seconds(duration));
    printRate("GET /model_submission_details", results.details(), "req/s");
    printRate("GET /hc (trivial route)", results.trivial(), "req/s");
    System.out.printf("%-54s %.3f%n", "ratio details/trivial", ratio(results.details(), results.trivial()));
    printRate("submissions persisted (PostgreSQL journal via HTTP)", results.submitted(), "/s");
    JournalWrites writes = results.journalWrites();
    if (writes.batches() > 0) {
      System.out.printf(
          "%-54s %9d batches, mean %.2f ms (sn11_journal_write_seconds, warm-up included)%n",
          "  of which journal writes", writes.batches(), writes.seconds() * 1000 / writes.batches());
    }
    printRate("plain JDBC inserts (same row size, same concurrency)", results.plain().measurement(), "/s");
    System.out.printf("%-54s %.3f%n", "ratio submissions/plain JDBC", ratio(results.submitted(), results.plain().measurement()));
    JournalRow journalRow = results.journalRow();
    System.out.printf(
        "row size: journal row of a submission %.0f bytes (payload %.0f bytes, average of %d Submitted events), plain row %.0f bytes%n",
        journalRow.rowBytes(), journalRow.payloadBytes(), journalRow.events(), results.plain().rowBytes());
    System.out.printf("accepted submissions: %d, in the journal: %d%n", results.acceptedCount(), results.acceptedCount() - results.missingHashes().size());
    int lost = LoadtestCommand.printLost(results.missingHashes());
    long errors =
        Stream.of(results.details(), results.trivial(), results.submitted(), results.plain().measurement()).mapToLong(m -> m.summary().errors()).sum();
    if (errors > 0) System.out.println("errors: " + errors + " requests or inserts failed (see the table above): the figures do not compare like with like");
    return lost == 0 && errors == 0 ? 0 : 1;
  }

  private Map<String, Object> nodeSettings(Database database, String token) {
    return Map.of(
        "sn11.database.url", database.url(),
        "sn11.database.user", database.user(),
        "sn11.database.password", database.password(),
        "sn11.coordinator.http.host", "127.0.0.1",
        "sn11.coordinator.http.port", 0,
        "sn11.coordinator.admin-tokens", List.of(token),
        // One client address sends the whole load, a connection per user: the per-client limits would measure themselves.
        "sn11.coordinator.http.rate-limits.default.requests", Integer.MAX_VALUE,
        "sn11.coordinator.http.rate-limits.routes.check_model.requests", Integer.MAX_VALUE,
        "sn11.coordinator.http.max-connections", Math.max(users, 1024),
        "sn11.coordinator.http.max-connections-per-address", Math.max(users, 1024));
  }

  private List<SyntheticModel> submitModelsToRead(ApiClient api) throws Exception {
    List<SyntheticModel> models = new ArrayList<>();
    for (int i = 0; i < MODELS_TO_READ; i++) {
      SyntheticModel model = SyntheticModel.of(run, submissions.incrementAndGet());
      ApiClient.Answer answer = api.post("/check_model", model.checkModelBody(block), true);
      if (!answer.ok()) throw new IllegalStateException("the coordinator refused a model to read: HTTP " + answer.status() + " " + answer.body());
      accepted.put(persistenceId(model), model);
      models.add(model);
    }
    System.out.printf("%d models submitted for the status requests to read%n", models.size());
    return models;
  }

  private void submit(ApiClient api, Tally tally) {
    SyntheticModel model = SyntheticModel.of(run, submissions.incrementAndGet());
    ApiClient.Answer answer = tally.send(() -> api.post("/check_model", model.checkModelBody(block), true));
    if (answer != null && answer.ok()) accepted.put(persistenceId(model), model);
  }

  /** Warms up with {@code request} under the run's load, then measures it; prints its row of the table. */
  private Measurement measure(String type, Consumer<Tally> request) throws InterruptedException {
    Tally warming = new Tally();
    ClosedLoop.drive(users, warmUp, () -> request.accept(warming));
    Tally tally = new Tally();
    double seconds = ClosedLoop.drive(users, duration, () -> request.accept(tally));
    Measurement measurement = new Measurement(tally.summary(), seconds);
    System.out.println(measurement.summary().row(type, seconds));
    return measurement;
  }

  private static String persistenceId(SyntheticModel model) {
    return PersistenceId.of(ModelEvaluation.TYPE_KEY.name(), model.hash()).id();
  }

  /** The accepted submissions whose Submitted event is not in the journal, by hash. */
  private List<String> missingFromJournal(Database database, List<String> ids) throws SQLException {
    Set<String> found = new HashSet<>();
    try (Connection connection = database.connect();
        PreparedStatement query = connection.prepareStatement("SELECT persistence_id FROM event_journal WHERE persistence_id = ANY(?) AND event_ser_manifest = ?")) {
      query.setArray(1, connection.createArrayOf("varchar", ids.toArray()));
      query.setString(2, SUBMITTED_MANIFEST);
      try (ResultSet rows = query.executeQuery()) {
        while (rows.next()) found.add(rows.getString(1));
      }
    }
    return ids.stream().filter(id -> !found.contains(id)).map(id -> accepted.get(id).hash()).sorted().toList();
  }

  private JournalRow journalRow(Database database, List<String> ids) throws SQLException {
    try (Connection connection = database.connect();
        PreparedStatement query =
            connection.prepareStatement(
                "SELECT count(*), avg(length(event_payload)), avg(pg_column_size(j.*)), min(writer), min(adapter_manifest), min(event_ser_id)"
                    + " FROM event_journal j WHERE persistence_id = ANY(?) AND event_ser_manifest = ?")) {
      query.setArray(1, connection.createArrayOf("varchar", ids.toArray()));
      query.setString(2, SUBMITTED_MANIFEST);
      try (ResultSet rows = query.executeQuery()) {
        rows.next();
        if (rows.getLong(1) == 0) throw new IllegalStateException("no Submitted event of this run in the journal: nothing to size the plain inserts on");
        return new JournalRow(rows.getLong(1), rows.getDouble(2), rows.getDouble(3), rows.getString(4), rows.getString(5), rows.getInt(6));
      }
    }
  }

  private record PlainInserts(Measurement measurement, double rowBytes) {}

  /**
   * Rows shaped and sized like the journal's, one autocommit insert each (as the journal writes an event),
   * from as many connections as there are users, into a scratch table copied from the journal's definition.
   */
  private PlainInserts plainInserts(Database database, JournalRow journalRow) throws Exception {
    String table = "sn11_benchmark_plain_" + run;
    byte[] payload = new byte[(int) Math.round(journalRow.payloadBytes())];
    ThreadLocalRandom.current().nextBytes(payload);
    String insert =
        "INSERT INTO " + table + " (persistence_id, sequence_number, deleted, writer, write_timestamp, adapter_manifest, event_ser_id, event_ser_manifest, event_payload)"
            + " VALUES (?, 1, false, ?, ?, ?, ?, ?, ?)";
    BlockingQueue<PreparedStatement> writers = new ArrayBlockingQueue<>(users);
    try (Connection admin = database.connect();
        Statement statement = admin.createStatement()) {
      // Not INCLUDING DEFAULTS: the ordering column would draw from the journal's own sequence.
      statement.execute("CREATE TABLE " + table + " (LIKE event_journal INCLUDING CONSTRAINTS INCLUDING INDEXES)");
      statement.execute("ALTER TABLE " + table + " ALTER COLUMN ordering ADD GENERATED BY DEFAULT AS IDENTITY");
      try {
        for (int i = 0; i < users; i++) writers.add(database.connect().prepareStatement(insert));
        Measurement measurement =
            measure(
                "plain-jdbc",
                tally -> {
                  PreparedStatement writer = writers.remove();
                  tally.run(() -> {
                    // A model hash is an unsigned 64-bit decimal: the same persistence id length as the journal's.
                    writer.setString(1, ModelEvaluation.TYPE_KEY.name() + "|" + Long.toUnsignedString(ThreadLocalRandom.current().nextLong()));
                    writer.setString(2, journalRow.writer());
                    writer.setLong(3, System.currentTimeMillis());
                    writer.setString(4, journalRow.adapterManifest());
                    writer.setInt(5, journalRow.serializerId());
                    writer.setString(6, SUBMITTED_MANIFEST);
                    writer.setBytes(7, payload);
                    writer.executeUpdate();
                  });
                  writers.add(writer);
                });
        try (ResultSet size = statement.executeQuery("SELECT avg(pg_column_size(t.*)) FROM " + table + " t")) {
          size.next();
          return new PlainInserts(measurement, size.getDouble(1));
        }
      } finally {
        for (PreparedStatement writer : writers) writer.getConnection().close();
        statement.execute("DROP TABLE IF EXISTS " + table);
      }
    }
  }

  private static void printRate(String label, Measurement measurement, String unit) {
    Tally.Summary summary = measurement.summary();
    System.out.printf("%-54s %9.1f %-6s p50 %.2f ms  p99 %.2f ms%n", label, measurement.perSecond(), unit, summary.p50(), summary.p99());
  }

  /** The quotient of the two figures as printed (one decimal), so that the printed ratio is theirs. */
  private static double ratio(Measurement numerator, Measurement denominator) {
    return rounded(numerator.perSecond()) / rounded(denominator.perSecond());
  }

  private static double rounded(double perSecond) {
    return Math.round(perSecond * 10) / 10.0;
  }

  private static double seconds(Duration duration) {
    return duration.toMillis() / 1000.0;
  }

  private static Duration clamp(Duration value, Duration min, Duration max) {
    return value.compareTo(min) < 0 ? min : value.compareTo(max) > 0 ? max : value;
  }

  /** The PostgreSQL database of the run: an embedded one started for it, or the one --db-url names. */
  private record Database(String url, String user, String password, EmbeddedPostgres embedded) implements AutoCloseable {
    static Database open(Options options) throws IOException {
      if (options.dbUrl == null) {
        // Both sides of the comparison pay for durable commits, as a production journal does.
        EmbeddedPostgres embedded = DurablePostgres.builder().start();
        return new Database(embedded.getJdbcUrl("postgres", "postgres"), "postgres", "", embedded);
      }
      return new Database(options.dbUrl, options.dbUser, options.dbPassword == null ? "" : options.dbPassword, null);
    }

    Connection connect() throws SQLException {
      return DriverManager.getConnection(url, user, password);
    }

    /** Which server (its URL without parameters, which may hold a password) and how durable its commits are: both sides of the comparison share them. */
    String describe() throws SQLException {
      try (Connection connection = connect();
          Statement statement = connection.createStatement();
          ResultSet settings = statement.executeQuery("SELECT current_setting('server_version'), current_setting('synchronous_commit'), current_setting('fsync')")) {
        settings.next();
        return String.format(
            "%s %s at %s (synchronous_commit=%s, fsync=%s)",
            embedded == null ? "server" : "embedded", settings.getString(1), url.replaceFirst("\\?.*", ""), settings.getString(2), settings.getString(3));
      }
    }

    @Override
    public void close() throws IOException {
      if (embedded != null) embedded.close();
    }
  }
}
