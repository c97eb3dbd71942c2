package io.sn11.cluster.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.model.Uri;
import org.apache.pekko.management.javadsl.PekkoManagement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One cluster node: an actor system carrying the roles it was started with. Without seed nodes it
 * forms a cluster of its own (the single-node default); with seed nodes it joins them.
 */
public final class Sn11Node implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Sn11Node.class);

  /** What a role starts on the node: entities, workers, an HTTP server. */
  public interface Role {
    String name();

    void start(ActorSystem<?> system) throws Exception;
  }

  private final ActorSystem<Void> system;
  private final Uri managementUri;

  private Sn11Node(ActorSystem<Void> system, Uri managementUri) {
    this.system = system;
    this.managementUri = managementUri;
  }

  /** Starts the node with {@code roles}; {@code config} should already hold the application's settings. */
  public static Sn11Node start(Config config, List<Role> roles) throws Exception {
    Config withRoles =
        ConfigFactory.empty()
            .withValue("pekko.cluster.roles", ConfigValueFactory.fromIterable(roles.stream().map(Role::name).toList()))
            .withFallback(config);
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "sn11", withRoles);
    try {
      Cluster cluster = Cluster.get(system);
      if (withRoles.getStringList("pekko.cluster.seed-nodes").isEmpty()) {
        cluster.manager().tell(Join.create(cluster.selfMember().address()));
      }
      for (Role role : roles) {
        role.start(system);
        log.info("role {} started", role.name());
      }
      // After the roles: a node reports ready only once what it serves is running.
      Uri management = PekkoManagement.get(system).start().toCompletableFuture().get(30, TimeUnit.SECONDS);
      log.info("health checks and cluster membership on {}", management);
      return new Sn11Node(system, management);
    } catch (Exception | Error e) {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
      throw e;
    }
  }

  public ActorSystem<Void> system() {
    return system;
  }

  /** Where Pekko Management answers ({@code /ready}, {@code /alive}, {@code /cluster/members}); the real port when 0 was configured. */
  public Uri managementUri() {
    return managementUri;
  }

  /**
   * Leaves the cluster and stops through coordinated shutdown, then waits for the actor system to
   * terminate. Every phase has run once coordinated shutdown is done; what may still hang is Artery
   * closing its streams, which has no deadline in Pekko 1.7 (apache/pekko#3247, bounded by
   * {@code shutdown-streams-timeout} in later versions; seen here with tls-tcp): after 30 s that is
   * logged, not thrown, since the node has left and stopped everything it owns.
   */
  @Override
  public void close() throws Exception {
    CompletableFuture<Done> done =
        CoordinatedShutdown.get(system).runAll(CoordinatedShutdown.unknownReason()).toCompletableFuture();
    done.get(Duration.ofMinutes(1).toSeconds(), TimeUnit.SECONDS);
    try {
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException stalled) {
      log.warn("actor system {} ran coordinated shutdown but has not terminated after 30 s (Artery stream shutdown stalled); carrying on", system.name());
    }
  }
}
