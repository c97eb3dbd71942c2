package io.sn11.launcher.fault;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sn11.coordinator.http.ApiNode;
import io.sn11.gpunode.store.DemoModels;
import io.sn11.gpunode.store.ModelStore;
import io.sn11.launcher.DurablePostgres;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import io.sn11.engine.EngineJvm;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A cluster of real {@code sn11 coordinator} and {@code sn11 gpu-node} processes (or single {@code sn11 serve}
 * nodes) on 127.0.0.1 sharing one embedded PostgreSQL, for fault tests: each node is its own JVM that a test can kill -9, SIGSTOP
 * or stop with SIGTERM, and start again on the same data folder and ports.
 */
public final class ClusterProcesses implements AutoCloseable {
  private static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();
  /** Short enough that downing, lease expiry and re-dispatch happen within seconds. */
  private static final String FAST_TIMINGS =
      """
      sn11.coordinator.dispatch.lease-timeout = 6s
      sn11.coordinator.dispatch.heartbeat-interval = 1s
      sn11.coordinator.dispatch.poll-interval = 300ms
      pekko.cluster.split-brain-resolver.stable-after = 5s
      pekko.cluster.failure-detector.acceptable-heartbeat-pause = 3s
      # The tests' load comes from one client address, far above any client's fair share.
      sn11.coordinator.http.rate-limits.default.requests = 1000000
      sn11.coordinator.http.rate-limits.routes.check_model.requests = 1000000
      """;
  private static final String TINY_EVALUATIONS =
      """
      sn11.gpu-node.hub.fetch = false
      sn11.gpu-node.backend = cpu
      sn11.gpu-node.threads = 1
      sn11.gpu-node.progress-interval = 300ms
      sn11.gpu-node.evaluation.samples = 4
      sn11.judge.generation.max-new-tokens = 16
      """;

  private final Path dir;
  private final Path pgData;
  private final int pgPort;
  private final Path modelStore;
  private final List<Node> nodes = new ArrayList<>();
  /** Every port handed to this cluster's processes and its PostgreSQL, so that none is handed out twice. */
  private final Set<Integer> handedOut = new HashSet<>();
  private EmbeddedPostgres postgres;

  /** A process of the cluster: its role command, cluster port, and (coordinators) HTTP API. */
  public final class Node {
    private final String name;
    private final List<String> command;
    private final int clusterPort;
    private final URI http;
    private Process process;
    private CompletableFuture<Void> serving;

    private Node(String name, List<String> command, int clusterPort, URI http) {
      this.name = name;
      this.command = command;
      this.clusterPort = clusterPort;
      this.http = http;
    }

    public String name() {
      return name;
    }

    /** Its address as a seed node. */
    public String address() {
      return "pekko://sn11@127.0.0.1:" + clusterPort;
    }

    /** The prefix of its worker slots' names in PrecheckStarted events ("system@host:port/slot-N"). */
    public String workerPrefix() {
      return "sn11@127.0.0.1:" + clusterPort + "/";
    }

    public ApiNode api() {
      if (http == null) throw new IllegalStateException(name + " has no HTTP API");
      return ApiNode.at(http);
    }

    public Process process() {
      return process;
    }

    /** Starts the process and waits for its serving line (and a healthy /hc on a coordinator). */
    public Node start() throws Exception {
      launch();
      awaitServing();
      return this;
    }

    private void launch() throws IOException {
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
      builder.environment().put("SN11_ADMIN_TOKEN", ApiNode.TOKEN);
      for (String inherited : List.of("SN11_DB_URL", "SN11_DB_USER", "SN11_DB_PASSWORD", "SN11_SEED_NODES", "SN11_HOST", "SN11_PORT")) {
        builder.environment().remove(inherited);
      }
      process = builder.start();
      serving = new CompletableFuture<>();
      Process started = process;
      CompletableFuture<Void> servingLine = serving;
      Thread reader =
          new Thread(
              () -> {
                try (BufferedReader lines = new BufferedReader(new InputStreamReader(started.getInputStream(), StandardCharsets.UTF_8))) {
                  for (String line; (line = lines.readLine()) != null; ) {
                    System.out.println("[" + name + "] " + line);
                    if (line.contains("Ctrl-C stops it.")) servingLine.complete(null);
                  }
                } catch (IOException ignored) {
                  // the process went away
                } finally {
                  servingLine.completeExceptionally(new AssertionError(name + " exited without its serving line"));
                }
              },
              name + "-output");
      reader.setDaemon(true);
      reader.start();
    }

    private void awaitServing() throws Exception {
      serving.get(3, TimeUnit.MINUTES);
      if (http != null) {
        ApiNode api = api();
        ApiNode.await(name + " /hc healthy", Duration.ofMinutes(2), () -> healthy(api), ok -> ok);
      }
    }

    /** SIGKILL: no shutdown hook, no leaving the cluster. */
    public void kill() throws InterruptedException {
      process.destroyForcibly();
      assertTrue(process.waitFor(30, TimeUnit.SECONDS), name + " survived kill -9");
    }

    /** SIGTERM: Pekko's coordinated shutdown leaves the cluster gracefully. */
    public void stop() throws InterruptedException {
      process.destroy();
      assertTrue(process.waitFor(60, TimeUnit.SECONDS), name + " did not stop within 60 s of SIGTERM");
    }

    public void signal(String signal) throws Exception {
      Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start();
      assertTrue(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0, "kill -" + signal + " " + name);
    }
  }

  /** Starts the nodes side by side (JVM starts overlap) and waits until every one serves. */
  public static void startAll(Node... nodes) throws Exception {
    for (Node node : nodes) node.launch();
    for (Node node : nodes) node.awaitServing();
  }

  private static boolean healthy(ApiNode api) {
    try {
      ApiNode.Answer hc = api.send(api.request("/hc").timeout(Duration.ofSeconds(5)).GET().build());
      return hc.status() == 200 && hc.body().path("g").asBoolean();
    } catch (IOException | InterruptedException notYet) {
      return false;
    }
  }

  private ClusterProcesses(Path dir) throws IOException {
    this.dir = dir;
    this.pgData = dir.resolve("postgres");
    this.pgPort = freePort();
    this.modelStore = dir.resolve("models");
  }

  /** Starts PostgreSQL (its data in {@code dir}) and writes the demo models into a shared model store. */
  public static ClusterProcesses start(Path dir) throws Exception {
    ClusterProcesses cluster = new ClusterProcesses(dir);
    cluster.startPostgres();
    DemoModels.ensure(new ModelStore(cluster.modelStore));
    return cluster;
  }

  /**
   * Starts PostgreSQL with durable commits, as in production, again on the same data folder and port after
   * {@link #stopPostgres()}.
   */
  public void startPostgres() throws IOException {
    postgres = DurablePostgres.builder().setDataDirectory(pgData).setCleanDataDirectory(false).setPort(pgPort).start();
  }

  public void stopPostgres() throws IOException {
    postgres.close();
  }

  /**
   * A coordinator node (not started) whose seed nodes are {@code earlierCoordinators} and then itself: the
   * first coordinator is its own first seed node and forms the cluster.
   */
  public Node coordinator(String name, String settings, Node... earlierCoordinators) throws IOException {
    int port = freePort();
    int httpPort = freePort();
    Path data = Files.createDirectories(dir.resolve(name));
    Path config = writeConfig(name, postgresSettings() + FAST_TIMINGS + settings);
    List<String> command = new ArrayList<>(javaCommand());
    command.addAll(List.of("coordinator", "--data-dir", data.toString(), "--config", config.toString(), "--port", Integer.toString(port), "--http-port", Integer.toString(httpPort)));
    Node node = new Node(name, command, port, URI.create("http://127.0.0.1:" + httpPort));
    for (Node seed : earlierCoordinators) command.addAll(List.of("--seed-node", seed.address()));
    command.addAll(List.of("--seed-node", node.address()));
    nodes.add(node);
    return node;
  }

  /** Where a {@code sn11 serve} node keeps its journal and read side. */
  public enum Journal {
    /** The embedded default: an H2 file under the node's data folder. */
    H2,
    /** The cluster's PostgreSQL, through the operator file config/postgres.conf. */
    POSTGRES
  }

  /** A {@code sn11 serve} node (not started): every role in one JVM, its worker on the shared demo model store. */
  public Node serve(String name, Journal journal, String settings) throws IOException {
    int port = freePort();
    int httpPort = freePort();
    Path data = Files.createDirectories(dir.resolve(name));
    String database = journal == Journal.POSTGRES ? postgresSettings() : "";
    Path config = writeConfig(name, database + FAST_TIMINGS + TINY_EVALUATIONS + "pekko.remote.artery.canonical.port = " + port + "\n" + settings);
    List<String> command = new ArrayList<>(javaCommand());
    command.addAll(List.of("serve", "--data-dir", data.toString(), "--config", config.toString(), "--http-port", Integer.toString(httpPort), "--model-store", modelStore.toString()));
    Node node = new Node(name, command, port, URI.create("http://127.0.0.1:" + httpPort));
    nodes.add(node);
    return node;
  }

  /** A gpu-node (not started) on the shared demo model store; {@code settings} override the tiny evaluation settings. */
  public Node gpuNode(String name, String settings, Node... coordinators) throws IOException {
    int port = freePort();
    Path data = Files.createDirectories(dir.resolve(name));
    Path config = writeConfig(name, FAST_TIMINGS + TINY_EVALUATIONS + settings);
    List<String> command = new ArrayList<>(javaCommand());
    command.addAll(List.of("gpu-node", "--data-dir", data.toString(), "--config", config.toString(), "--port", Integer.toString(port), "--model-store", modelStore.toString()));
    for (Node seed : coordinators) command.addAll(List.of("--seed-node", seed.address()));
    Node node = new Node(name, command, port, null);
    nodes.add(node);
    return node;
  }

  private static List<String> javaCommand() {
    // The management port (when a node runs Pekko Management) must not clash between the nodes.
    List<String> command = new ArrayList<>(List.of(JAVA, "-Xmx384m", "-XX:+UseSerialGC", "-Dpekko.management.http.port=0"));
    command.addAll(EngineJvm.OPTIONS);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.sn11.launcher.Sn11"));
    return command;
  }

  /** The operator file of config/postgres.conf with this database's address, as an operator would write it. */
  private String postgresSettings() throws IOException {
    String operatorFile = Files.readString(repositoryFile("config/postgres.conf"), StandardCharsets.UTF_8);
    return operatorFile
        + "\nsn11.database.url = \"jdbc:postgresql://127.0.0.1:" + pgPort + "/postgres\"\nsn11.database.user = \"postgres\"\nsn11.database.password = \"\"\n";
  }

  private Path writeConfig(String name, String settings) throws IOException {
    return Files.writeString(dir.resolve(name + ".conf"), settings, StandardCharsets.UTF_8);
  }

  static Path repositoryFile(String relative) {
    for (Path candidate : List.of(Path.of("..").resolve(relative), Path.of(relative))) {
      if (Files.isRegularFile(candidate)) return candidate;
    }
    throw new IllegalStateException(relative + " not found from " + Path.of("").toAbsolutePath());
  }

  // ---- the journal --------------------------------------------------------------------------------

  public Connection database() throws SQLException {
    return postgres.getPostgresDatabase().getConnection();
  }

  /** How durable PostgreSQL's commits are: its synchronous_commit and fsync settings. */
  public String commitSettings() throws SQLException {
    try (Connection connection = database();
        PreparedStatement statement = connection.prepareStatement("SELECT current_setting('synchronous_commit'), current_setting('fsync')");
        ResultSet settings = statement.executeQuery()) {
      settings.next();
      return "synchronous_commit=" + settings.getString(1) + ", fsync=" + settings.getString(2);
    }
  }

  /** The event types (simple class names) in a model's journal, oldest first. */
  public List<String> journalEventTypes(String modelHash) throws SQLException {
    List<String> types = new ArrayList<>();
    try (Connection connection = database();
        PreparedStatement statement =
            connection.prepareStatement("SELECT event_ser_manifest FROM event_journal WHERE persistence_id = ? ORDER BY sequence_number")) {
      statement.setString(1, "ModelEvaluation|" + modelHash);
      try (ResultSet rows = statement.executeQuery()) {
        while (rows.next()) {
          String manifest = rows.getString(1);
          types.add(manifest.substring(Math.max(manifest.lastIndexOf('$'), manifest.lastIndexOf('.')) + 1));
        }
      }
    }
    return types;
  }

  /** How many events of {@code type} a model's journal holds. */
  public long journalEvents(String modelHash, String type) throws SQLException {
    return journalEventTypes(modelHash).stream().filter(type::equals).count();
  }

  @Override
  public void close() throws Exception {
    for (Node node : nodes) {
      if (node.process != null && node.process.isAlive()) {
        // SIGKILL ends a SIGSTOPped process too.
        node.process.destroyForcibly();
        node.process.waitFor(30, TimeUnit.SECONDS);
      }
    }
    if (postgres != null) postgres.close();
  }

  /**
   * A port no process of this cluster has been given yet. The operating system may offer a probed port again once its
   * probe is closed: a coordinator's HTTP port once came out equal to another node's cluster port, and it failed to bind.
   */
  private int freePort() throws IOException {
    while (true) {
      try (ServerSocket probe = new ServerSocket(0)) {
        if (handedOut.add(probe.getLocalPort())) return probe.getLocalPort();
      }
    }
  }
}
