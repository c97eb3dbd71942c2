package io.sn11.coordinator.testing;

import io.sn11.coordinator.CoordinatorSettings;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Fresh, empty databases of both kinds a coordinator runs on: H2 files under a folder, and PostgreSQL
 * databases in one embedded server, started when first asked for and stopped by {@link #close()}.
 */
public final class TestDatabases implements AutoCloseable {
  public enum Kind {
    H2,
    POSTGRES
  }

  /** Where a database is and how to log in. */
  public record Jdbc(String url, String user, String password) {
    public Connection connect() throws SQLException {
      return DriverManager.getConnection(url, user, password);
    }

    public CoordinatorSettings.Database settings(int poolSize) {
      return new CoordinatorSettings.Database(url, user, password, poolSize);
    }
  }

  private final Path folder;
  private int created;
  private EmbeddedPostgres postgres;

  public TestDatabases(Path folder) {
    this.folder = folder;
  }

  public synchronized Jdbc fresh(Kind kind) throws Exception {
    String name = "sn11_" + ++created;
    if (kind == Kind.H2) return new Jdbc("jdbc:h2:file:" + folder.resolve(name).resolve("sn11") + ";DATABASE_TO_UPPER=false;WRITE_DELAY=0", "sa", "");
    if (postgres == null) postgres = EmbeddedPostgres.builder().start();
    try (Connection admin = postgres.getPostgresDatabase().getConnection();
        Statement statement = admin.createStatement()) {
      statement.execute("CREATE DATABASE " + name);
    }
    return new Jdbc(postgres.getJdbcUrl("postgres", name), "postgres", "");
  }

  @Override
  public synchronized void close() throws Exception {
    if (postgres != null) postgres.close();
  }
}
