package io.sn11.coordinator.http;

import io.sn11.cluster.metrics.Sn11Metrics;
import io.sn11.coordinator.CoordinatorSettings;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
import org.apache.pekko.http.scaladsl.ConnectionContext;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.SharedKillSwitch;
import org.apache.pekko.stream.TLSProtocol;
import org.apache.pekko.stream.javadsl.BidiFlow;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.Tcp;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API's server: HTTPS with the configured key store, else plain HTTP, on Pekko HTTP's own server layer
 * over a TCP binding of ours, so that no single client can take it down. At most max-connections are open
 * in all and max-connections-per-address from one address (beyond either a new connection is closed at
 * once), and each is closed by its {@link HeaderReadDeadline} when no complete request header comes in
 * time. The TCP binding is what lets a connection be closed below TLS.
 */
public final class ApiServer {
  private static final Logger log = LoggerFactory.getLogger(ApiServer.class);
  /** A refused connection: nothing is read from it and it is closed at once. */
  private static final Flow<ByteString, ByteString, NotUsed> REFUSE = Flow.fromSinkAndSource(Sink.cancelled(), Source.empty());

  private final ActorSystem<?> system;
  private final CoordinatorSettings.Connections settings;
  private final ServerSettings serverSettings;
  private final BidiFlow<TLSProtocol.SslTlsOutbound, ByteString, ByteString, TLSProtocol.SslTlsInbound, NotUsed> tls;
  private final Flow<HttpRequest, HttpResponse, NotUsed> handler;
  private final ConnectionLimits limits;
  private final Sn11Metrics metrics;
  private final Materializer materializer;
  /** Every open connection, for a graceful shutdown; and the switch that closes those left at its deadline. */
  private final Set<HeaderReadDeadline.Drain> open = ConcurrentHashMap.newKeySet();
  private final SharedKillSwitch everyConnection = KillSwitches.shared("api-connections");
  private final CompletableFuture<Done> drained = new CompletableFuture<>();
  private volatile boolean draining;
  private volatile Tcp.ServerBinding binding;

  private ApiServer(ActorSystem<?> system, CoordinatorSettings settings, Route routes) throws Exception {
    this.system = system;
    this.settings = settings.connections();
    this.serverSettings = ServerSettings.create(system.classicSystem());
    this.tls = org.apache.pekko.http.scaladsl.Http.apply(system).sslTlsServerStage(connectionContext(settings.tls())).asJava();
    this.handler = routes.flow(system);
    this.limits = new ConnectionLimits(this.settings.max(), this.settings.maxPerAddress());
    this.metrics = Sn11Metrics.get(system);
    this.materializer = Materializer.matFromSystem(system);
  }

  /** Binds {@code routes} at the configured address; completes once the port is bound. */
  public static CompletionStage<ApiServer> bind(ActorSystem<?> system, CoordinatorSettings settings, Route routes) throws Exception {
    ApiServer server = new ApiServer(system, settings, routes);
    ServerSettings http = server.serverSettings;
    return Tcp.get(system)
        .bind(settings.httpHost(), settings.httpPort(), http.getBacklog(), http.getSocketOptions(), false, http.getTimeouts().idleTimeout())
        .to(Sink.foreach(server::admit))
        .run(server.materializer)
        .thenApply(
            binding -> {
              server.binding = binding;
              return server;
            });
  }

  /** Where the API listens (the real port when 0 was configured). */
  public InetSocketAddress localAddress() {
    return binding.localAddress();
  }

  /**
   * Stops accepting in the service-unbind phase; in service-requests-done closes idle connections at once
   * and the others after their response, and whatever is left after {@code hardDeadline}.
   */
  public void addToCoordinatedShutdown(Duration hardDeadline) {
    CoordinatedShutdown shutdown = CoordinatedShutdown.get(system);
    shutdown.addTask(CoordinatedShutdown.PhaseServiceUnbind(), "api-unbind", () -> binding.unbind().thenApply(unbound -> Done.getInstance()));
    shutdown.addTask(CoordinatedShutdown.PhaseServiceRequestsDone(), "api-requests-done", () -> drain(hardDeadline));
  }

  private CompletionStage<Done> drain(Duration hardDeadline) {
    draining = true;
    open.forEach(HeaderReadDeadline.Drain::closeWhenIdle);
    if (open.isEmpty()) drained.complete(Done.getInstance());
    return drained
        .completeOnTimeout(Done.getInstance(), hardDeadline.toMillis(), TimeUnit.MILLISECONDS)
        .thenApply(
            done -> {
              everyConnection.abort(new TimeoutException("the server is shutting down"));
              return done;
            });
  }

  private void admit(Tcp.IncomingConnection connection) {
    InetAddress client = connection.remoteAddress().getAddress();
    Optional<ConnectionLimits.Refusal> refusal = limits.admit(client);
    if (refusal.isPresent()) {
      metrics.httpConnectionsClosed.labelValues(refusal.get().label).inc();
      connection.handleWith(REFUSE, materializer);
      return;
    }
    metrics.httpConnections.inc();
    AtomicBoolean released = new AtomicBoolean();
    Runnable release =
        () -> {
          if (!released.compareAndSet(false, true)) return;
          limits.release(client);
          metrics.httpConnections.dec();
        };
    try {
      connection.handleWith(served(connection.remoteAddress(), release), materializer);
    } catch (RuntimeException e) {
      // The accepting stream must outlive any one connection (this one failed to start: a materializer shut down).
      release.run();
      log.warn("could not serve a connection from {}: {}", client.getHostAddress(), e.toString());
    }
  }

  /**
   * One connection's bytes: TLS (or none), Pekko HTTP's server layer, the header deadline, the routes;
   * {@code release} runs when the connection has closed.
   */
  private Flow<ByteString, ByteString, NotUsed> served(InetSocketAddress client, Runnable release) {
    SharedKillSwitch cut = KillSwitches.shared("api-connection");
    BidiFlow<HttpResponse, ByteString, ByteString, HttpRequest, NotUsed> layers =
        Http.get(system)
            .serverLayer(serverSettings, Optional.of(client), system.classicSystem().log())
            .atop(tls)
            .atop(BidiFlow.fromFlows(cutBy(cut), cutBy(cut)));
    // Aborted, not completed: a completed byte stream makes the HTTP parser answer a header half read as malformed.
    Runnable close = () -> cut.abort(new TimeoutException("closed by the server: no request header in time, or shutting down"));
    Flow<HttpRequest, HttpResponse, HeaderReadDeadline.Drain> app =
        BidiFlow.fromGraph(new HeaderReadDeadline(settings.headerReadTimeout(), this::headerReadTimedOut, close)).join(handler);
    return layers
        .reversed()
        .join(app, Keep.right())
        .watchTermination(
            (drain, done) -> {
              open.add(drain);
              done.whenComplete(
                  (ignored, failure) -> {
                    release.run();
                    open.remove(drain);
                    if (draining && open.isEmpty()) drained.complete(Done.getInstance());
                  });
              return NotUsed.getInstance();
            });
  }

  private Flow<ByteString, ByteString, NotUsed> cutBy(SharedKillSwitch cut) {
    return Flow.<ByteString>create().via(cut.flow()).via(everyConnection.flow());
  }

  private void headerReadTimedOut() {
    metrics.httpConnectionsClosed.labelValues("header_read_timeout").inc();
  }

  private static ConnectionContext connectionContext(CoordinatorSettings.Tls tls) throws Exception {
    if (tls == null) return ConnectionContext.noEncryption();
    KeyStore keyStore = KeyStore.getInstance(tls.keyStoreType());
    try (InputStream in = Files.newInputStream(tls.keyStore())) {
      keyStore.load(in, tls.keyStorePassword());
    }
    KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keys.init(keyStore, tls.keyStorePassword());
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keys.getKeyManagers(), null, new SecureRandom());
    return ConnectionContext.httpsServer(context);
  }
}
