package io.sn11.coordinator;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The coordinator's settings, read once from {@code sn11.coordinator} and {@code sn11.database}. */
public record CoordinatorSettings(
    String httpHost,
    int httpPort,
    long maxBodyBytes,
    Duration askTimeout,
    Connections connections,
    Tls tls,
    RateLimits rateLimits,
    List<String> adminTokens,
    boolean openSubmissions,
    int openRatePerHotkeyPerHour,
    long windowBlocks,
    long epochStartBlock,
    List<String> chatTemplates,
    int maxUid,
    int snapshotEvery,
    int projectionParallelism,
    Dispatch dispatch,
    Database database) {

  /**
   * What one client can hold of the API's connections.
   *
   * @param max open connections in all; beyond it new ones are closed at once
   * @param maxPerAddress open connections from one client address; beyond it its new ones are closed at once
   * @param headerReadTimeout from a connection's open, or the end of its last response, until the next
   *     request's header is complete; an idle or slow connection is closed after it
   */
  public record Connections(int max, int maxPerAddress, Duration headerReadTimeout) {}

  /** HTTPS for the API: the key store with the server's key and certificate chain; null when plain HTTP. */
  public record Tls(java.nio.file.Path keyStore, String keyStoreType, char[] keyStorePassword) {
    @Override
    public String toString() { // never shows the password
      return "Tls[keyStore=" + keyStore + ", type=" + keyStoreType + "]";
    }
  }

  /** {@code requests} in a burst per client address, refilled evenly over {@code per}. */
  public record RateLimit(int requests, Duration per) {}

  /** The rate limit of each route (by its name in {@link #ROUTE_NAMES}); routes not named get the default. */
  public record RateLimits(RateLimit defaultLimit, Map<String, RateLimit> routes) {
    public RateLimit forRoute(String route) {
      return routes.getOrDefault(route, defaultLimit);
    }
  }

  /** The names of the HTTP routes, as rate limits refer to them. */
  public static final List<String> ROUTE_NAMES =
      List.of(
          "hc", "check_model", "model_submission_details", "minerboard_update", "minerboard", "weights", "weights_preview",
          "evaluate_model", "admin_results", "admin_actions", "model", "model_events", "model_verdicts", "dashboard", "leaderboard",
          "queue", "nodes", "weights_history");

  /**
   * How queued evaluations reach the gpu-nodes.
   *
   * @param maxAttempts attempts per evaluation before an infrastructure failure is final
   * @param leaseTimeout a claimed evaluation without a heartbeat for this long goes back to the queue
   * @param heartbeatInterval how often workers renew their lease; well below {@code leaseTimeout}
   * @param pollInterval how often the dispatcher looks for queued models and orphaned attempts
   * @param pollBatch queued models read per poll (oldest first)
   */
  public record Dispatch(int maxAttempts, Duration leaseTimeout, Duration heartbeatInterval, Duration pollInterval, int pollBatch) {}

  /** Where the read side and the journal live; the dialect follows from the JDBC URL. */
  public record Database(String url, String user, String password, int readSidePoolSize) {
    public Dialect dialect() {
      return Dialect.ofUrl(url);
    }
  }

  public enum Dialect {
    H2("h2"),
    POSTGRES("postgres");

    private final String scriptFolder;

    Dialect(String scriptFolder) {
      this.scriptFolder = scriptFolder;
    }

    /** The folder name the persistence plugin and our migrations use for this database. */
    public String scriptFolder() {
      return scriptFolder;
    }

    static Dialect ofUrl(String url) {
      if (url.startsWith("jdbc:h2:")) return H2;
      if (url.startsWith("jdbc:postgresql:")) return POSTGRES;
      throw new IllegalArgumentException("sn11.database.url must be an H2 or PostgreSQL JDBC URL, was " + url);
    }
  }

  public static CoordinatorSettings fromConfig(Config root) {
    Config c = root.getConfig("sn11.coordinator");
    Config db = root.getConfig("sn11.database");
    List<String> tokens = new ArrayList<>(c.getStringList("admin-tokens"));
    if (c.hasPath("admin-token-env") && !c.getString("admin-token-env").isBlank()) {
      tokens.add(c.getString("admin-token-env"));
    }
    List<String> tokenFiles = new ArrayList<>(c.getStringList("admin-token-files"));
    if (c.hasPath("admin-token-file-env") && !c.getString("admin-token-file-env").isBlank()) tokenFiles.add(c.getString("admin-token-file-env"));
    for (String file : tokenFiles) tokens.addAll(tokensIn(java.nio.file.Path.of(file)));
    CoordinatorSettings settings =
        new CoordinatorSettings(
            c.getString("http.host"),
            c.getInt("http.port"),
            c.getBytes("http.max-body-bytes"),
            c.getDuration("http.ask-timeout"),
            new Connections(c.getInt("http.max-connections"), c.getInt("http.max-connections-per-address"), c.getDuration("http.header-read-timeout")),
            tls(c.getConfig("http.tls")),
            rateLimits(c.getConfig("http.rate-limits")),
            List.copyOf(tokens),
            c.getBoolean("submissions.open"),
            c.getInt("submissions.open-rate-per-hotkey-per-hour"),
            c.getLong("submissions.window-blocks"),
            c.getLong("submissions.epoch-start-block"),
            List.copyOf(c.getStringList("submissions.chat-templates")),
            c.getInt("submissions.max-uid"),
            c.getInt("snapshot-every"),
            c.getInt("projection-parallelism"),
            new Dispatch(
                c.getInt("dispatch.max-attempts"),
                c.getDuration("dispatch.lease-timeout"),
                c.getDuration("dispatch.heartbeat-interval"),
                c.getDuration("dispatch.poll-interval"),
                c.getInt("dispatch.poll-batch")),
            new Database(db.getString("url"), db.getString("user"), db.getString("password"), db.getInt("read-side-pool-size")));
    settings.validate();
    return settings;
  }

  private static Tls tls(Config c) {
    if (!c.getBoolean("enabled")) return null;
    String keyStore = c.getString("key-store");
    require(!keyStore.isBlank(), "sn11.coordinator.http.tls.key-store is required when tls.enabled (or SN11_TLS_KEY_STORE)");
    require(java.nio.file.Files.isReadable(java.nio.file.Path.of(keyStore)), "sn11.coordinator.http.tls.key-store " + keyStore + " cannot be read");
    return new Tls(java.nio.file.Path.of(keyStore), c.getString("key-store-type"), c.getString("key-store-password").toCharArray());
  }

  /** The tokens of an admin token file: one per line, blank lines and # comments skipped. */
  static List<String> tokensIn(java.nio.file.Path file) {
    try {
      return java.nio.file.Files.readAllLines(file, java.nio.charset.StandardCharsets.UTF_8).stream()
          .map(String::trim)
          .filter(line -> !line.isEmpty() && !line.startsWith("#"))
          .toList();
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException("sn11.coordinator.admin-token-files: cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  private static RateLimits rateLimits(Config c) {
    Map<String, RateLimit> routes = new java.util.TreeMap<>();
    Config perRoute = c.getConfig("routes");
    for (String route : perRoute.root().keySet()) {
      if (!ROUTE_NAMES.contains(route)) {
        throw new IllegalArgumentException("sn11.coordinator.http.rate-limits.routes." + route + ": no such route; routes: " + ROUTE_NAMES);
      }
      routes.put(route, rateLimit(perRoute.getConfig(route), "routes." + route));
    }
    return new RateLimits(rateLimit(c.getConfig("default"), "default"), Map.copyOf(routes));
  }

  private static RateLimit rateLimit(Config c, String where) {
    RateLimit limit = new RateLimit(c.getInt("requests"), c.getDuration("per"));
    require(limit.requests() > 0, "sn11.coordinator.http.rate-limits." + where + ".requests must be > 0");
    require(!limit.per().isNegative() && !limit.per().isZero(), "sn11.coordinator.http.rate-limits." + where + ".per must be > 0");
    return limit;
  }

  private void validate() {
    require(httpPort >= 0 && httpPort <= 65535, "sn11.coordinator.http.port must be in 0..65535");
    require(maxBodyBytes > 0, "sn11.coordinator.http.max-body-bytes must be > 0");
    require(connections.max() > 0, "sn11.coordinator.http.max-connections must be > 0");
    require(
        connections.maxPerAddress() > 0 && connections.maxPerAddress() <= connections.max(),
        "sn11.coordinator.http.max-connections-per-address must be in 1..max-connections");
    require(
        !connections.headerReadTimeout().isNegative() && !connections.headerReadTimeout().isZero(),
        "sn11.coordinator.http.header-read-timeout must be > 0");
    require(openRatePerHotkeyPerHour > 0, "sn11.coordinator.submissions.open-rate-per-hotkey-per-hour must be > 0");
    require(windowBlocks >= 0, "sn11.coordinator.submissions.window-blocks must be >= 0");
    require(epochStartBlock >= 0, "sn11.coordinator.submissions.epoch-start-block must be >= 0");
    require(!chatTemplates.isEmpty(), "sn11.coordinator.submissions.chat-templates must not be empty");
    require(snapshotEvery > 0, "sn11.coordinator.snapshot-every must be > 0");
    require(projectionParallelism > 0, "sn11.coordinator.projection-parallelism must be > 0");
    require(dispatch.maxAttempts() > 0, "sn11.coordinator.dispatch.max-attempts must be > 0");
    require(!dispatch.pollInterval().isNegative() && !dispatch.pollInterval().isZero(), "sn11.coordinator.dispatch.poll-interval must be > 0");
    require(dispatch.pollBatch() > 0, "sn11.coordinator.dispatch.poll-batch must be > 0");
    require(
        !dispatch.heartbeatInterval().isNegative() && !dispatch.heartbeatInterval().isZero()
            && dispatch.heartbeatInterval().multipliedBy(2).compareTo(dispatch.leaseTimeout()) <= 0,
        "sn11.coordinator.dispatch.heartbeat-interval must be > 0 and at most half of lease-timeout");
    require(adminTokens.stream().noneMatch(String::isBlank), "sn11.coordinator.admin-tokens must not contain blank tokens");
    database.dialect();
  }

  private static void require(boolean condition, String message) {
    if (!condition) throw new IllegalArgumentException(message);
  }
}
