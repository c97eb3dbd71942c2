package io.sn11.coordinator;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The coordinator's settings, read once from {@code sn11.coordinator} and {@code sn11.database}. */
public record CoordinatorSettings(
    String httpHost,
    int httpPort,
    long maxBodyBytes,
    Duration askTimeout,
    Duration adminAuditTimeout,
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
    String requiredFingerprint,
    boolean followLocalGpuNode,
    WeightsSettings weights,
    ValidatorReports validatorReports,
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
          "evaluate_model", "admin_results", "admin_actions", "admin_weights_fold", "admin_rescore", "model", "model_events", "model_verdicts",
          "model_scores", "dashboard", "leaderboard",
          "queue", "nodes", "scoring_fingerprint", "weights_history", "telemetry_report", "event_report", "validators");

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

  /**
   * The weights beyond the scoring rules: who gets a burn, how the node knows the chain's current block,
   * and whether it folds on its own.
   *
   * @param burn a uid that receives a fixed share of every step; null: no burn
   * @param chainReference a block and when the chain made it, from which the node estimates the chain's
   *     current block; null: the node knows the chain only from the blocks in its registry
   * @param blockTime how often the chain makes a block
   * @param maxBlocksAhead how far beyond the chain's current block (as the node knows it) a block may be
   *     to be folded or previewed
   * @param foldInterval how often one node of the cluster folds the chain's current block; zero: never
   */
  public record WeightsSettings(Burn burn, ChainReference chainReference, Duration blockTime, long maxBlocksAhead, Duration foldInterval) {}

  /** {@code uid} receives {@code share} of every step; the others share the rest. */
  public record Burn(int uid, double share) {}

  /** The chain made block {@code block} at {@code at}. */
  public record ChainReference(long block, java.time.Instant at) {}

  /**
   * What validators report about themselves (self-reported, not verified): bodies above {@code maxBodyBytes}
   * are refused; the newest {@code keepReports} reports and {@code keepValidators} validators are kept.
   */
  public record ValidatorReports(long maxBodyBytes, int keepReports, int keepValidators) {}

  /** Where the read side and the journal live; the dialect follows from the JDBC URL. */
  public record Database(String url, String user, String password, int readSidePoolSize) {
    public Dialect dialect() {
      return Dialect.ofUrl(url);
    }

    /**
     * A 2xx promises that the change is written, so an H2 URL must say WRITE_DELAY=0: with any other delay H2
     * acknowledges a commit and writes it to its file only up to that many milliseconds later (500 by default),
     * and a crash loses what was acknowledged meanwhile. Refused rather than rewritten: the journal plugin, the
     * read side and the readiness check all open the URL as written, and it should say what runs.
     */
    void requireDurableCommits() {
      if (dialect() == Dialect.H2 && !h2Setting("WRITE_DELAY").equals(Optional.of("0"))) {
        throw new IllegalArgumentException(
            "sn11.database.url: an H2 URL must include ;WRITE_DELAY=0: with a write delay H2 acknowledges commits"
                + " before writing them, and a crash of the node loses what it acknowledged meanwhile");
      }
    }

    /** A setting of the H2 URL: H2 reads KEY=value pairs after the first ';', the keys in any case. */
    private Optional<String> h2Setting(String key) {
      String[] parts = url.split(";");
      for (int i = 1; i < parts.length; i++) {
        int equals = parts[i].indexOf('=');
        if (equals > 0 && parts[i].substring(0, equals).equalsIgnoreCase(key)) return Optional.of(parts[i].substring(equals + 1));
      }
      return Optional.empty();
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
            c.getDuration("http.admin-audit-timeout"),
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
            c.getString("scoring.required-fingerprint").isBlank() ? null : c.getString("scoring.required-fingerprint").strip(),
            booleanSetting(c, "scoring.follow-local-gpu-node"),
            weights(c.getConfig("weights"), c.getInt("submissions.max-uid")),
            new ValidatorReports(
                c.getBytes("validator-reports.max-body-bytes"), c.getInt("validator-reports.keep-reports"), c.getInt("validator-reports.keep-validators")),
            new Database(db.getString("url"), db.getString("user"), db.getString("password"), db.getInt("read-side-pool-size")));
    settings.validate();
    return settings;
  }

  private static WeightsSettings weights(Config c, int maxUid) {
    String at = "sn11.coordinator.weights.";
    Long burnUid = optionalLong(c, "burn-uid");
    Double burnShare = c.hasPath("burn-share") ? c.getDouble("burn-share") : null;
    require(burnUid != null || burnShare == null, at + "burn-uid is required with burn-share");
    require(burnUid == null || burnShare != null, at + "burn-share is required with burn-uid");
    require(burnUid == null || (burnUid >= 0 && burnUid <= maxUid), at + "burn-uid must be in 0.." + maxUid + " (submissions.max-uid)");
    require(burnShare == null || (burnShare >= 0 && burnShare <= 1), at + "burn-share must be in [0, 1]");
    Long referenceBlock = optionalLong(c, "chain-reference-block");
    String referenceTime = c.hasPath("chain-reference-time") ? c.getString("chain-reference-time") : null;
    require(referenceBlock != null || referenceTime == null, at + "chain-reference-block is required with chain-reference-time");
    require(referenceBlock == null || referenceTime != null, at + "chain-reference-time is required with chain-reference-block");
    require(referenceBlock == null || referenceBlock >= 0, at + "chain-reference-block must be >= 0");
    ChainReference reference = null;
    if (referenceBlock != null) {
      try {
        reference = new ChainReference(referenceBlock, java.time.Instant.parse(referenceTime));
      } catch (java.time.format.DateTimeParseException e) {
        throw new IllegalArgumentException(at + "chain-reference-time must be an ISO-8601 instant such as 2025-01-31T12:00:00Z, was " + referenceTime, e);
      }
    }
    WeightsSettings weights =
        new WeightsSettings(
            burnUid == null ? null : new Burn(burnUid.intValue(), burnShare),
            reference,
            c.getDuration("block-time"),
            c.getLong("max-blocks-ahead"),
            c.getDuration("fold-interval"));
    require(!weights.blockTime().isNegative() && !weights.blockTime().isZero(), at + "block-time must be > 0");
    require(weights.maxBlocksAhead() >= 0, at + "max-blocks-ahead must be >= 0");
    require(!weights.foldInterval().isNegative(), at + "fold-interval must be >= 0 (0: no schedule)");
    return weights;
  }

  /** A boolean setting (on/off, true/false, yes/no); anything else is refused naming it. */
  private static boolean booleanSetting(Config c, String key) {
    try {
      return c.getBoolean(key);
    } catch (com.typesafe.config.ConfigException.WrongType e) {
      throw new IllegalArgumentException("sn11.coordinator." + key + " must be on or off, was " + c.getValue(key).unwrapped(), e);
    }
  }

  /** A whole number, or null where the key is null or absent. */
  private static Long optionalLong(Config c, String key) {
    return c.hasPath(key) ? c.getLong(key) : null;
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
    require(!adminAuditTimeout.isNegative() && !adminAuditTimeout.isZero(), "sn11.coordinator.http.admin-audit-timeout must be > 0");
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
    require(
        requiredFingerprint == null || io.sn11.cluster.scoring.ScoringFingerprint.isId(requiredFingerprint),
        "sn11.coordinator.scoring.required-fingerprint must be empty or a fingerprint id (sf- and 16 hex digits, as /nodes shows it), was "
            + requiredFingerprint);
    require(dispatch.pollBatch() > 0, "sn11.coordinator.dispatch.poll-batch must be > 0");
    require(
        !dispatch.heartbeatInterval().isNegative() && !dispatch.heartbeatInterval().isZero()
            && dispatch.heartbeatInterval().multipliedBy(2).compareTo(dispatch.leaseTimeout()) <= 0,
        "sn11.coordinator.dispatch.heartbeat-interval must be > 0 and at most half of lease-timeout");
    // The reports' column holds at most a million characters.
    require(
        validatorReports.maxBodyBytes() > 0 && validatorReports.maxBodyBytes() <= 1_000_000,
        "sn11.coordinator.validator-reports.max-body-bytes must be in 1..1000000");
    require(validatorReports.keepReports() > 0, "sn11.coordinator.validator-reports.keep-reports must be > 0");
    require(validatorReports.keepValidators() > 0, "sn11.coordinator.validator-reports.keep-validators must be > 0");
    require(adminTokens.stream().noneMatch(String::isBlank), "sn11.coordinator.admin-tokens must not contain blank tokens");
    database.requireDurableCommits();
  }

  private static void require(boolean condition, String message) {
    if (!condition) throw new IllegalArgumentException(message);
  }
}
