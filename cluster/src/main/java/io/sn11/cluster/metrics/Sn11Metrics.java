package io.sn11.cluster.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * The node's metrics, one registry per actor system (so that several nodes in one JVM keep theirs apart),
 * exposed in the Prometheus text format at {@code /metrics} on the management port.
 */
public final class Sn11Metrics implements Extension {

  /** HTTP requests by route and status, with their latency. */
  public final Histogram httpRequests;
  /** Open connections of the HTTP API. */
  public final Gauge httpConnections;
  /** HTTP API connections the server closed itself, by reason: a connection cap, or the header-read deadline. */
  public final Counter httpConnectionsClosed;
  /** Evaluation attempts started, completed and failed (by category), counted once each by the dispatcher. */
  public final Counter evaluations;
  /** Claims and results the dispatcher refused because they came from a node scoring under another fingerprint. */
  public final Counter fingerprintRefusals;
  /** Models by status, as the dispatcher last read the read side. */
  public final Gauge queue;
  /** How long each phase of an evaluation took on this gpu-node. */
  public final Histogram evaluationPhases;
  /** Tokens per second of the last evaluation, by backend and kind (scoring, generation). */
  public final Gauge tokensPerSecond;
  /** From a command sent to a model's entity until it has persisted its events and answered. */
  public final Histogram entityCommands;
  /** One batch of events written to the journal, by outcome (ok, failed). */
  public final Histogram journalWrites;

  private final PrometheusRegistry registry = new PrometheusRegistry();

  private Sn11Metrics(ActorSystem<?> system) {
    httpRequests =
        Histogram.builder().name("sn11_http_request_seconds").help("HTTP requests by route and status").labelNames("route", "status").register(registry);
    httpConnections = Gauge.builder().name("sn11_http_connections").help("Open connections of the HTTP API").register(registry);
    httpConnectionsClosed =
        Counter.builder()
            .name("sn11_http_connections_closed_total")
            .help("HTTP API connections the server closed itself: over a connection cap (refused at once) or past the header-read deadline")
            .labelNames("reason")
            .register(registry);
    evaluations =
        Counter.builder().name("sn11_evaluation_attempts_total").help("Evaluation attempts started, completed and failed (failed attempts may be re-queued)").labelNames("outcome", "category").register(registry);
    fingerprintRefusals =
        Counter.builder()
            .name("sn11_fingerprint_refusals_total")
            .help("Claims and results refused because their node scores under another fingerprint than the required one")
            .labelNames("kind")
            .register(registry);
    queue = Gauge.builder().name("sn11_models").help("Models by status").labelNames("status").register(registry);
    evaluationPhases =
        Histogram.builder().name("sn11_evaluation_phase_seconds").help("Duration of each phase of an evaluation").labelNames("phase").register(registry);
    tokensPerSecond =
        Gauge.builder().name("sn11_tokens_per_second").help("Tokens per second of the last evaluation").labelNames("backend", "kind").register(registry);
    entityCommands =
        Histogram.builder()
            .name("sn11_entity_command_seconds")
            .help("From a command to a model's entity until it has persisted (journal write included) and answered")
            .labelNames("command")
            .register(registry);
    journalWrites =
        Histogram.builder()
            .name("sn11_journal_write_seconds")
            .help("Writing one batch of events to the journal's database, by outcome")
            .labelNames("outcome")
            .register(registry);
    Cluster cluster = Cluster.get(system);
    GaugeWithCallback.builder()
        .name("sn11_cluster_members")
        .help("Cluster members by role and status, as this node sees them")
        .labelNames("role", "status")
        .callback(
            callback -> {
              Map<String, Integer> counts = new HashMap<>();
              for (Member member : cluster.state().getMembers()) {
                for (String role : member.getRoles()) {
                  if (!role.startsWith("dc-")) counts.merge(role + "\u0000" + member.status(), 1, Integer::sum);
                }
              }
              counts.forEach((key, count) -> callback.call(count, key.split("\u0000")));
            })
        .register(registry);
  }

  public PrometheusRegistry registry() {
    return registry;
  }

  public static Sn11Metrics get(ActorSystem<?> system) {
    return Id.INSTANCE.apply(system);
  }

  /** The extension's id: one instance per actor system. */
  public static final class Id extends ExtensionId<Sn11Metrics> {
    static final Id INSTANCE = new Id();

    private Id() {}

    @Override
    public Sn11Metrics createExtension(ActorSystem<?> system) {
      return new Sn11Metrics(system);
    }
  }
}
