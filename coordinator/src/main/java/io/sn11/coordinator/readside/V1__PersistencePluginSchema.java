package io.sn11.coordinator.readside;

import io.sn11.coordinator.CoordinatorSettings.Dialect;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Statement;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * Creates the journal, snapshot and durable-state tables from the DDL script that ships inside the
 * Pekko Persistence JDBC jar, so our schema is always the plugin's own. Run outside a transaction:
 * PostgreSQL's script builds indexes CONCURRENTLY, which a transaction forbids.
 */
public final class V1__PersistencePluginSchema extends BaseJavaMigration {
  private final Dialect dialect;

  public V1__PersistencePluginSchema(Dialect dialect) {
    this.dialect = dialect;
  }

  @Override
  public boolean canExecuteInTransaction() {
    return false;
  }

  @Override
  public void migrate(Context context) throws Exception {
    String folder = dialect.scriptFolder();
    String script = readResource("schema/" + folder + "/" + folder + "-create-schema.sql");
    try (Statement statement = context.getConnection().createStatement()) {
      for (String sql : script.split(";\\s*(\\r?\\n|$)")) {
        if (!sql.isBlank()) statement.execute(sql);
      }
    }
  }

  private static String readResource(String name) throws IOException {
    try (InputStream in = V1__PersistencePluginSchema.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) throw new IOException("the persistence plugin's schema script " + name + " is not on the classpath");
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
