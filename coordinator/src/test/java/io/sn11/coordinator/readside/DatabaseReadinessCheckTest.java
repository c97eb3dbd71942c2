package io.sn11.coordinator.readside;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The readiness check answers whether the database answers, without throwing either way. */
class DatabaseReadinessCheckTest {
  private static final Executor CALLER = Runnable::run;

  @TempDir Path dataDir;

  @Test
  void readyWhileTheDatabaseAnswers() throws Exception {
    assertTrue(check("jdbc:h2:file:" + dataDir.resolve("sn11")).get().toCompletableFuture().get(10, TimeUnit.SECONDS));
  }

  @Test
  void notReadyWhenTheDatabaseDoesNotAnswer() throws Exception {
    // IFEXISTS: opening a database that is not there fails, as a connection to a database that is down does.
    String missing = "jdbc:h2:file:" + dataDir.resolve("missing") + ";IFEXISTS=TRUE";
    assertFalse(check(missing).get().toCompletableFuture().get(10, TimeUnit.SECONDS));
  }

  private static DatabaseReadinessCheck check(String url) {
    JdbcDataSource dataSource = new JdbcDataSource();
    dataSource.setURL(url);
    return new DatabaseReadinessCheck(dataSource, CALLER);
  }
}
