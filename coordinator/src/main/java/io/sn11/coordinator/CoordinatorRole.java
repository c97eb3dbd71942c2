package io.sn11.coordinator;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.sn11.cluster.node.Roles;
import io.sn11.cluster.node.Sn11Node;
import io.sn11.cluster.scoring.ScoringSettings;
import io.sn11.coordinator.dispatch.Dispatcher;
import io.sn11.coordinator.dispatch.ScoringVersion;
import io.sn11.coordinator.evaluation.HotkeySubmissions;
import io.sn11.coordinator.evaluation.ModelEvaluation;
import io.sn11.coordinator.evaluation.Submissions;
import io.sn11.coordinator.http.ApiServer;
import io.sn11.coordinator.http.HttpApi;
import io.sn11.coordinator.readside.ReadSide;
import io.sn11.coordinator.readside.ReadSideProjection;
import io.sn11.coordinator.registry.MinerRegistration;
import io.sn11.coordinator.weights.WeightsLedger;
import io.sn11.coordinator.weights.WeightsSchedule;
import io.sn11.coordinator.weights.WeightsService;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;

/**
 * The coordinator role: schema migrations, the sharded entities, the read-side projection and the HTTP
 * API. The HTTP port is bound last, so a node answers only once everything behind it is running.
 */
public final class CoordinatorRole implements Sn11Node.Role {
  private volatile InetSocketAddress httpAddress;

  @Override
  public String name() {
    return Roles.COORDINATOR;
  }

  @Override
  public void start(ActorSystem<?> system) throws Exception {
    CoordinatorSettings settings = CoordinatorSettings.fromConfig(system.settings().config());
    ScoringSettings scoring = ScoringSettings.fromConfig(system.settings().config());
    ReadSide readSide = ReadSide.open(settings.database());
    CoordinatedShutdown.get(system)
        .addTask(
            CoordinatedShutdown.PhaseBeforeActorSystemTerminate(),
            "close-read-side",
            () -> {
              readSide.close();
              return CompletableFuture.completedFuture(Done.getInstance());
            });

    ModelEvaluation.init(system, settings);
    MinerRegistration.init(system, settings);
    WeightsLedger.init(system, settings);
    ReadSideProjection.init(system, settings, readSide);

    Executor blocking = system.dispatchers().lookup(DispatcherSelector.fromConfig("sn11.blocking-dispatcher"));
    Submissions submissions = new Submissions(system, readSide, blocking, settings);
    HotkeySubmissions.init(system, settings, submissions.forHotkeys());
    ScoringVersion.init(system);
    Dispatcher.init(system, settings, readSide, blocking);
    WeightsService weights = new WeightsService(system, readSide, blocking, settings, scoring);
    WeightsSchedule.init(system, settings.weights().foldInterval(), weights);
    HttpApi api =
        new HttpApi(
            system,
            settings,
            scoring,
            submissions,
            weights,
            readSide,
            blocking,
            jsonMapper());
    ApiServer server = ApiServer.bind(system, settings, api.routes()).toCompletableFuture().get(30, TimeUnit.SECONDS);
    server.addToCoordinatedShutdown(Duration.ofSeconds(10));
    httpAddress = server.localAddress();
  }

  /** Where the HTTP API listens (the real port when 0 was configured); null before start. */
  public InetSocketAddress httpAddress() {
    return httpAddress;
  }

  /** JSON for API bodies: snake_case names, ISO-8601 timestamps. */
  public static ObjectMapper jsonMapper() {
    return new ObjectMapper()
        .registerModule(new Jdk8Module())
        .registerModule(new JavaTimeModule())
        .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
        .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
  }
}
