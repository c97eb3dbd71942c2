package io.sn11.coordinator;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The coordinator's settings, read once from {@code sn11.coordinator} and {@code sn11.database}. */
public record CoordinatorSettings(
    String httpHost,
    int httpPort,
    long maxBodyBytes,
    Duration askTimeout,
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
    CoordinatorSettings settings =
        new CoordinatorSettings(
            c.getString("http.host"),
            c.getInt("http.port"),
            c.getBytes("http.max-body-bytes"),
            c.getDuration("http.ask-timeout"),
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

  private void validate() {
    require(httpPort >= 0 && httpPort <= 65535, "sn11.coordinator.http.port must be in 0..65535");
    require(maxBodyBytes > 0, "sn11.coordinator.http.max-body-bytes must be > 0");
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
