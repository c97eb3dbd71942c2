package io.sn11.coordinator.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sn11.cluster.metrics.Sn11Metrics;
import io.sn11.coordinator.CoordinatorSettings;
import io.sn11.coordinator.readside.ReadSide;
import io.sn11.coordinator.weights.WeightsService;
import java.net.InetAddress;
import java.sql.SQLException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.RemoteAddress;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RetryAfter;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.server.Complete;
import org.apache.pekko.http.javadsl.server.RouteResults;
import org.apache.pekko.http.javadsl.server.RouteResult;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.stream.Materializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How every route of the API reads, answers, limits and authorises, whatever it does: JSON bodies within
 * the size limit, JSON answers and refusals, the rate limit and latency metric per route, the gate that
 * answers 503 while the database does not, admin credentials and the audit of admin actions.
 */
abstract class ApiDirectives extends AllDirectives {
  private static final Logger log = LoggerFactory.getLogger(ApiDirectives.class);

  final ActorSystem<?> system;
  final CoordinatorSettings settings;
  final ReadSide readSide;
  final Executor blocking;
  final ObjectMapper mapper;
  private final AdminTokens adminTokens;
  private final Map<String, TokenBuckets> rateLimits;
  private final Sn11Metrics metrics;
  final Materializer materializer;
  private final JsonBodies bodies;
  private final DatabaseProbe database;

  ApiDirectives(ActorSystem<?> system, CoordinatorSettings settings, ReadSide readSide, Executor blocking, ObjectMapper mapper) {
    this.system = system;
    this.settings = settings;
    this.readSide = readSide;
    this.blocking = blocking;
    this.mapper = mapper;
    this.adminTokens = new AdminTokens(settings.adminTokens());
    this.metrics = Sn11Metrics.get(system);
    this.rateLimits =
        CoordinatorSettings.ROUTE_NAMES.stream()
            .collect(
                java.util.stream.Collectors.toUnmodifiableMap(
                    route -> route,
                    route -> {
                      CoordinatorSettings.RateLimit limit = settings.rateLimits().forRoute(route);
                      return new TokenBuckets(limit.requests(), limit.per(), System::nanoTime);
                    }));
    this.materializer = Materializer.matFromSystem(system);
    this.bodies = new JsonBodies(mapper, settings.askTimeout(), materializer);
    this.database = new DatabaseProbe(system, readSide::databaseAnswers, blocking);
  }

  /** Whether the database answers now, by the probe that gates the routes needing it. */
  boolean databaseAnswering() {
    return database.answering();
  }

  /** Routes that read or write the database: 503 at once while it does not answer (see {@link DatabaseProbe}). */
  Route withDatabase(Route inner) {
    // Decided per request: the route tree itself is built once.
    return extractRequestContext(request -> database.answering() ? inner : complete(databaseUnavailable()));
  }

  /**
   * Every route goes through here: its latency and status are measured, and its rate limit per client
   * address answers 429 with Retry-After once the client's bucket is empty.
   */
  Route limited(String route, java.util.function.Supplier<Route> inner) {
    TokenBuckets buckets = rateLimits.get(route);
    return extractRequest(
        request -> {
          long started = System.nanoTime();
          return mapResponse(
              response -> {
                metrics.httpRequests.labelValues(route, Integer.toString(response.status().intValue())).observe((System.nanoTime() - started) / 1e9);
                return response;
              },
              () -> rateLimited(route, buckets, request, inner));
        });
  }

  private Route rateLimited(String route, TokenBuckets buckets, HttpRequest request, java.util.function.Supplier<Route> inner) {
    String client = request.getAttribute(AttributeKeys.remoteAddress).flatMap(RemoteAddress::getAddress).map(InetAddress::getHostAddress).orElse("unknown");
    if (buckets.tryAcquire(client)) return inner.get();
    long retryAfter = buckets.secondsUntilNext(client);
    return complete(
        error(StatusCodes.TOO_MANY_REQUESTS, null, "too many requests to " + route + " from " + client + "; retry in " + retryAfter + " s")
            .addHeader(RetryAfter.create(retryAfter)));
  }

  /** Reads a JSON body (see {@link JsonBodies}) of at most max-body-bytes and hands it, with the bearer token if any, to the route. */
  Route withBody(BodyHandler handler) {
    return withBody(settings.maxBodyBytes(), handler);
  }

  /** Reads a JSON body of at most {@code maxBytes} (413 above) and hands it, with the bearer token if any, to the route. */
  Route withBody(long maxBytes, BodyHandler handler) {
    return optionalHeaderValueByName(
        "Authorization",
        authorization ->
            extractRequestEntity(
                entity -> respond(() -> bodies.read(entity, maxBytes).thenCompose(body -> handler.handle(body, authorization.flatMap(HttpApi::bearerToken))))));
  }

  @FunctionalInterface
  interface BodyHandler {
    CompletionStage<HttpResponse> handle(JsonNode body, Optional<String> bearer);
  }

  Route withBody(Function<JsonNode, CompletionStage<HttpResponse>> handler) {
    return withBody((BodyHandler) (body, bearer) -> handler.apply(body));
  }

  /** Admin routes: 401 without an admin token; with one, the action is recorded with who and when. */
  Route admin(String route, Supplier<Route> inner) {
    return optionalHeaderValueByName(
        "Authorization",
        authorization ->
            adminTokens
                .fingerprint(authorization.flatMap(HttpApi::bearerToken).orElse(null))
                .map(who -> mapRouteResultFuture(result -> result.thenCompose(answer -> auditedResult(who, route, answer)), inner))
                .orElseGet(() -> complete(unauthorized())));
  }

  /**
   * The subnet's admin routes with a body: the admin comes as a bearer token or, as the subnet's clients send
   * it, as the body's {@code admin_key} (see {@link #adminOf}); 401 without either. The action is recorded
   * like any admin action.
   */
  Route subnetAdmin(String route, Function<JsonNode, CompletionStage<HttpResponse>> handler) {
    return withBody(
        (body, bearer) -> {
          Optional<String> who = adminOf(bearer, RequestFields.ofJson(body));
          if (who.isEmpty()) return CompletableFuture.completedFuture(unauthorized());
          return answered(() -> handler.apply(body)).thenCompose(response -> audited(who.get(), route, response));
        });
  }

  /**
   * Who a request's admin credential names: its bearer token, else its body's {@code admin_key}, compared the
   * same way (constant time) and recorded under the same fingerprint. Empty without either. A wrong
   * {@code admin_key} is refused as the subnet refuses it: 403 "invalid key".
   */
  Optional<String> adminOf(Optional<String> bearer, RequestFields body) {
    Optional<String> byBearer = adminTokens.fingerprint(bearer.orElse(null));
    if (byBearer.isPresent()) return byBearer;
    String key = body.optional("admin_key");
    if (key == null) return Optional.empty();
    return Optional.of(adminTokens.fingerprint(key).orElseThrow(() -> new ApiException(StatusCodes.FORBIDDEN, "admin_key", "invalid key")));
  }

  /**
   * Records an admin action before its answer goes out, so an acknowledged admin action is in the record
   * too. A record that cannot be written within {@code admin-audit-timeout} is logged, not fatal: the
   * action itself is already committed (or refused), and its answer must not wait on a database that is gone.
   */
  CompletionStage<HttpResponse> audited(String who, String route, HttpResponse response) {
    ReadSide.AdminAction action = new ReadSide.AdminAction(java.time.Instant.now(), who, route, response.status().intValue());
    return blocking(() -> {
          readSide.recordAdminAction(action);
          return response;
        })
        .toCompletableFuture()
        .orTimeout(settings.adminAuditTimeout().toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
        .exceptionally(
            failure -> {
              system.log().error("admin action {} could not be recorded: {}", action, failure.getMessage());
              return response;
            });
  }

  /** A route's result with its admin action recorded when it was answered (a rejection records nothing). */
  private CompletionStage<RouteResult> auditedResult(String who, String route, RouteResult result) {
    if (!(result instanceof Complete complete)) return CompletableFuture.completedFuture(result);
    return audited(who, route, complete.getResponse()).thenApply(RouteResults::complete);
  }

  static Optional<String> bearerToken(String authorization) {
    return authorization.regionMatches(true, 0, "Bearer ", 0, 7) ? Optional.of(authorization.substring(7).trim()) : Optional.empty();
  }

  /** Runs a route's work and turns any failure into the JSON error it stands for. */
  Route respond(Supplier<CompletionStage<HttpResponse>> work) {
    return completeWithFuture(answered(work));
  }

  /** The answer of a route's work, a failure (thrown or completed) turned into the JSON error it stands for. */
  CompletionStage<HttpResponse> answered(Supplier<CompletionStage<HttpResponse>> work) {
    CompletionStage<HttpResponse> response;
    try {
      response = work.get();
    } catch (RuntimeException e) {
      response = CompletableFuture.failedFuture(e);
    }
    return response.exceptionally(this::errorResponse);
  }

  <T> CompletionStage<T> blocking(ReadSide.Query<T> query) {
    return ReadSide.on(blocking, query);
  }

  HttpResponse errorResponse(Throwable failure) {
    Throwable cause = failure;
    while ((cause instanceof CompletionException || cause instanceof java.util.concurrent.ExecutionException) && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof ApiException api) return api.response();
    if (cause instanceof StatusReply.ErrorMessage refused) return error(StatusCodes.CONFLICT, null, refused.getMessage());
    if (cause instanceof WeightsService.BlockRefused refused) {
      boolean conflict = refused.reason() == WeightsService.BlockRefused.Reason.NOT_AFTER_LAST_FOLD;
      return error(conflict ? StatusCodes.CONFLICT : StatusCodes.BAD_REQUEST, "current_block", refused.getMessage());
    }
    ApiException unreadableBody = bodies.refusal(cause);
    if (unreadableBody != null) return unreadableBody.response();
    if (cause instanceof TimeoutException) return error(StatusCodes.SERVICE_UNAVAILABLE, null, "the cluster did not answer in time; retry later");
    if (cause instanceof SQLException) return databaseUnavailable();
    log.error("request failed", cause);
    return error(StatusCodes.INTERNAL_SERVER_ERROR, null, "internal error");
  }

  private HttpResponse databaseUnavailable() {
    return error(StatusCodes.SERVICE_UNAVAILABLE, null, "the database is unavailable; retry later");
  }

  HttpResponse unauthorized() {
    return error(StatusCodes.UNAUTHORIZED, "Authorization", "an admin token is required: Authorization: Bearer <token>");
  }

  HttpResponse error(StatusCode status, String field, String detail) {
    return new ApiException(status, field, detail).response();
  }

  CompletionStage<HttpResponse> ok(CompletionStage<? extends JsonNode> body) {
    return body.thenApply(answer -> json(StatusCodes.OK, answer));
  }

  HttpResponse json(StatusCode status, JsonNode body) {
    try {
      return HttpResponse.create().withStatus(status).withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, mapper.writeValueAsBytes(body)));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a JSON tree always serialises", e);
    }
  }

  /** Pekko's own rejections (wrong method, unknown path) as JSON bodies too. */
  RejectionHandler jsonRejections() {
    return RejectionHandler.defaultHandler()
        .mapRejectionResponse(
            response -> {
              if (!(response.entity() instanceof HttpEntity.Strict strict)) return response;
              String text = strict.getData().utf8String();
              return response.withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, mapper.createObjectNode().put("detail", text).toString()));
            });
  }
}
