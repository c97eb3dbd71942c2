package io.sn11.coordinator.readside;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.sn11.cluster.node.Roles;
import io.sn11.coordinator.CoordinatorSettings;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.apache.pekko.Done;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.CoordinatedShutdown;

/**
 * Pekko Management readiness check (registered in {@code sn11/defaults/coordinator.conf}): a node with
 * the coordinator role is ready only while its database answers, since every route and entity needs it.
 * Nodes without that role have no database and are always ready as far as this check goes.
 */
public final class DatabaseReadinessCheck implements Supplier<CompletionStage<Boolean>> {
  private final DataSource dataSource;
  private final Executor blocking;

  /** Called by Pekko Management when it starts; opens a one-connection pool of its own on coordinator nodes. */
  public DatabaseReadinessCheck(ActorSystem system) {
    boolean coordinator = system.settings().config().getStringList("pekko.cluster.roles").contains(Roles.COORDINATOR);
    this.dataSource = coordinator ? openPool(system) : null;
    this.blocking = system.dispatchers().lookup("sn11.blocking-dispatcher");
  }

  /** A check on {@code dataSource}, run on {@code blocking} (JDBC blocks). */
  DatabaseReadinessCheck(DataSource dataSource, Executor blocking) {
    this.dataSource = dataSource;
    this.blocking = blocking;
  }

  @Override
  public CompletionStage<Boolean> get() {
    if (dataSource == null) return CompletableFuture.completedFuture(true);
    return CompletableFuture.supplyAsync(() -> ReadSide.answers(dataSource), blocking);
  }

  private static HikariDataSource openPool(ActorSystem system) {
    CoordinatorSettings.Database database = CoordinatorSettings.fromConfig(system.settings().config()).database();
    HikariConfig config = ReadSide.poolConfig(database, "sn11-readiness", 1);
    config.setMinimumIdle(0);
    // Within the check timeout (pekko.management.health-checks.check-timeout), and no connection at start:
    // a database that is down makes the node unready, not its start fail.
    config.setConnectionTimeout(2_000);
    config.setInitializationFailTimeout(-1);
    HikariDataSource pool = new HikariDataSource(config);
    CoordinatedShutdown.get(system)
        .addTask(
            CoordinatedShutdown.PhaseBeforeActorSystemTerminate(),
            "close-readiness-pool",
            () -> {
              pool.close();
              return CompletableFuture.completedFuture(Done.getInstance());
            });
    return pool;
  }
}
