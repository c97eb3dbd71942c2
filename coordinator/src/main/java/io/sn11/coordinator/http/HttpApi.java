package io.sn11.coordinator.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sn11.cluster.domain.ModelDetails;
import io.sn11.cluster.domain.ModelStatus;
import io.sn11.cluster.domain.Scores;
import io.sn11.cluster.scoring.ModelHash;
import io.sn11.cluster.scoring.ScoreInputs;
import io.sn11.cluster.scoring.ScoringSettings;
import io.sn11.cluster.scoring.TotalScore;
import io.sn11.cluster.metrics.Sn11Metrics;
import io.sn11.coordinator.CoordinatorSettings;
import io.sn11.coordinator.evaluation.ModelEvaluation;
import io.sn11.coordinator.evaluation.Submissions;
import io.sn11.coordinator.readside.ReadSide;
import io.sn11.coordinator.registry.MinerRegistration;
import io.sn11.coordinator.weights.WeightsService;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.time.Duration;
import java.net.InetAddress;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.RemoteAddress;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RetryAfter;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator's HTTP API: the subnet's validation API (same paths and JSON shapes) plus our own
 * routes. Every refusal is a JSON body {@code {"detail": ..., "field": ...}} with a 4xx status.
 */
public final class HttpApi extends AllDirectives {
  private static final Logger log = LoggerFactory.getLogger(HttpApi.class);

  private final ActorSystem<?> system;
  private final CoordinatorSettings settings;
  private final ScoringSettings scoring;
  private final Submissions submissions;
  private final WeightsService weights;
  private final ReadSide readSide;
  private final Executor blocking;
  private final ObjectMapper mapper;
  private final JsonBodies bodies;
  private final JsonViews views;
  private final AdminTokens adminTokens;
  private final TokenBuckets openSubmissionLimiter;
  private final Map<String, TokenBuckets> rateLimits;
  private final Sn11Metrics metrics;
  private final Materializer materializer;
  private final DatabaseProbe database;

  public HttpApi(
      ActorSystem<?> system,
      CoordinatorSettings settings,
      ScoringSettings scoring,
      Submissions submissions,
      WeightsService weights,
      ReadSide readSide,
      Executor blocking,
      ObjectMapper mapper) {
    this.system = system;
    this.settings = settings;
    this.scoring = scoring;
    this.submissions = submissions;
    this.weights = weights;
    this.readSide = readSide;
    this.blocking = blocking;
    this.mapper = mapper;
    this.views = new JsonViews(mapper);
    this.adminTokens = new AdminTokens(settings.adminTokens());
    this.openSubmissionLimiter = new TokenBuckets(settings.openRatePerHotkeyPerHour(), Duration.ofHours(1), System::nanoTime);
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
    this.bodies = new JsonBodies(mapper, settings.maxBodyBytes(), settings.askTimeout(), materializer);
    this.database = new DatabaseProbe(system, readSide::databaseAnswers, blocking);
  }

  public Route routes() {
    return handleRejections(
        jsonRejections(),
        () ->
            concat(
                path("hc", () -> limited("hc", () -> get(() -> respond(this::health)))),
                path(PathMatchers.segment("weights").slash("preview"), () -> limited("weights_preview", () -> post(() -> withBody(this::preview)))),
                path("check_model", () -> limited("check_model", () -> withDatabase(post(() -> withBody(this::checkModel))))),
                path(
                    "model_submission_details",
                    () -> limited("model_submission_details", () -> withDatabase(get(() -> parameterMap(query -> respond(() -> submissionDetails(query))))))),
                path(
                    "minerboard_update",
                    () -> limited("minerboard_update", () -> withDatabase(post(() -> admin("minerboard_update", () -> withBody(body -> minerboardUpdate(body))))))),
                path("minerboard", () -> limited("minerboard", () -> withDatabase(get(() -> respond(this::minerboard))))),
                path("weights", () -> limited("weights", () -> withDatabase(get(() -> parameterMap(query -> respond(() -> weights(query))))))),
                path("evaluate_model", () -> limited("evaluate_model", () -> withDatabase(post(() -> admin("evaluate_model", () -> withBody(this::evaluateModel)))))),
                path(
                    PathMatchers.segment("admin").slash("results"),
                    () -> limited("admin_results", () -> withDatabase(post(() -> admin("admin_results", () -> withBody(this::recordResult)))))),
                path(
                    PathMatchers.segment("admin").slash("actions"),
                    () -> limited("admin_actions", () -> withDatabase(get(() -> admin("admin_actions", () -> parameterMap(query -> respond(() -> adminActions(query)))))))),
                pathSingleSlash(() -> limited("dashboard", () -> get(() -> getFromResource("dashboard/index.html")))),
                pathPrefix("dashboard", () -> limited("dashboard", () -> get(() -> getFromResourceDirectory("dashboard")))),
                path("leaderboard", () -> limited("leaderboard", () -> withDatabase(get(() -> parameterMap(query -> respond(() -> leaderboard(query))))))),
                path("queue", () -> limited("queue", () -> withDatabase(get(() -> parameterMap(query -> respond(() -> queue(query))))))),
                path("nodes", () -> limited("nodes", () -> withDatabase(get(() -> respond(this::nodes))))),
                path(
                    PathMatchers.segment("weights").slash("history"),
                    () -> limited("weights_history", () -> withDatabase(get(() -> parameterMap(query -> respond(() -> weightsHistory(query))))))),
                path(PathMatchers.segment("models").slash(PathMatchers.segment()), hash -> limited("model", () -> withDatabase(get(() -> respond(() -> model(hash)))))),
                path(
                    PathMatchers.segment("models").slash(PathMatchers.segment()).slash("events"),
                    hash -> limited("model_events", () -> withDatabase(get(() -> respond(() -> events(hash)))))),
                path(
                    PathMatchers.segment("models").slash(PathMatchers.segment()).slash("verdicts"),
                    hash -> limited("model_verdicts", () -> withDatabase(get(() -> parameterMap(query -> respond(() -> verdicts(hash, query)))))))));
  }

  /** Routes that read or write the database: 503 at once while it does not answer (see {@link DatabaseProbe}). */
  private Route withDatabase(Route inner) {
    // Decided per request: the route tree itself is built once.
    return extractRequestContext(request -> database.answering() ? inner : complete(databaseUnavailable()));
  }

  // ---- routes -----------------------------------------------------------------------------------

  /** Healthy when the node is Up and the database answers, by the same probe that gates the routes needing it. */
  private CompletionStage<HttpResponse> health() {
    boolean healthy = Cluster.get(system).selfMember().status() == MemberStatus.up() && database.answering();
    return CompletableFuture.completedFuture(json(healthy ? StatusCodes.OK : StatusCodes.SERVICE_UNAVAILABLE, mapper.createObjectNode().put("g", healthy)));
  }

  private CompletionStage<HttpResponse> checkModel(JsonNode body, Optional<String> bearer) {
    RequestFields fields = RequestFields.ofJson(body);
    Optional<String> admin = adminTokens.fingerprint(bearer.orElse(null)).or(() -> adminTokens.fingerprint(fields.optional("admin_key")));
    // Without a valid token a closed API says nothing about the body: 401 before any validation.
    if (!settings.openSubmissions() && admin.isEmpty()) return CompletableFuture.completedFuture(unauthorized());
    CompletionStage<HttpResponse> answer;
    try {
      answer = submit(fields);
    } catch (RuntimeException refused) {
      answer = CompletableFuture.failedFuture(refused);
    }
    CompletionStage<HttpResponse> answered = answer.exceptionally(this::errorResponse);
    return admin.map(who -> answered.thenApply(response -> audited(who, "check_model", response))).orElse(answered);
  }

  private CompletionStage<HttpResponse> submit(RequestFields fields) {
    ModelDetails details = modelDetails(fields);
    fields.rejectUnknown();
    if (settings.openSubmissions()) {
      if (!openSubmissionLimiter.tryAcquire(details.hotkey())) {
        long retryAfter = openSubmissionLimiter.secondsUntilNext(details.hotkey());
        return CompletableFuture.completedFuture(
            error(StatusCodes.TOO_MANY_REQUESTS, "hotkey", "too many submissions for this hotkey; retry in " + retryAfter + " s")
                .addHeader(RetryAfter.create(retryAfter)));
      }
    }
    return submissions.submit(details, true).thenApply(state -> json(StatusCodes.OK, views.record(state)));
  }

  private CompletionStage<HttpResponse> submissionDetails(Map<String, String> query) {
    return record(modelDetails(RequestFields.ofQuery(query)).hash());
  }

  /** The model's record from its entity; 404 when nobody submitted it. */
  private CompletionStage<HttpResponse> record(String hash) {
    return submissions
        .get(hash)
        .thenApply(
            state -> {
              if (state.isEmpty()) throw ApiException.notFound("no model with hash " + hash + " was submitted");
              return json(StatusCodes.OK, views.record(state));
            });
  }

  private CompletionStage<HttpResponse> minerboardUpdate(JsonNode body) {
    RequestFields fields = RequestFields.ofJson(body);
    String hash = fields.modelHash("hash");
    int uid = (int) fields.longInRange("uid", 0, settings.maxUid());
    String hotkey = fields.hotkey("hotkey");
    long block = fields.longInRange("block", 0, RequestFields.MAX_BLOCK);
    fields.rejectUnknown();
    return ClusterSharding.get(system)
        .entityRefFor(MinerRegistration.TYPE_KEY, Integer.toString(uid))
        .<MinerRegistration.State>askWithStatus(replyTo -> new MinerRegistration.Update(hash, hotkey, block, replyTo), settings.askTimeout())
        .thenApply(
            state ->
                json(
                    StatusCodes.OK,
                    mapper.createObjectNode().put("uid", state.uid()).put("hash", state.hash()).put("hotkey", state.hotkey()).put("block", state.block())));
  }

  private CompletionStage<HttpResponse> minerboard() {
    return blocking(readSide::registry).thenApply(registry -> json(StatusCodes.OK, views.minerboard(registry)));
  }

  private CompletionStage<HttpResponse> weights(Map<String, String> query) {
    RequestFields fields = RequestFields.ofQuery(query);
    long currentBlock = fields.longInRange("current_block", 0, RequestFields.MAX_BLOCK);
    WeightsService.Burn burn = burn(fields);
    return weights
        .weights(currentBlock, burn)
        .thenApply(r -> json(StatusCodes.OK, views.weights(r.currentBlock(), r.rows(), r.folded(), r.lastFoldedBlock())));
  }

  private CompletionStage<HttpResponse> preview(JsonNode body, Optional<String> ignoredBearer) {
    RequestFields fields = RequestFields.ofJson(body);
    JsonNode entriesNode = body.get("entries");
    if (entriesNode == null || !entriesNode.isArray()) throw ApiException.badField("entries", "entries must be an array");
    if (entriesNode.size() > settings.maxUid() + 1) {
      throw ApiException.badField("entries", "entries may hold at most " + (settings.maxUid() + 1) + " entries");
    }
    List<WeightsService.Entry> entries = new ArrayList<>();
    java.util.Set<Integer> seen = new java.util.HashSet<>();
    for (int i = 0; i < entriesNode.size(); i++) {
      String prefix = "entries[" + i + "].";
      JsonNode entry = entriesNode.get(i);
      if (!entry.isObject()) throw ApiException.badField("entries[" + i + "]", "each entry must be an object");
      int uid = entryInt(entry, prefix + "uid", "uid", 0, settings.maxUid());
      if (!seen.add(uid)) throw ApiException.badField(prefix + "uid", "uid " + uid + " appears twice");
      long block = entryInt(entry, prefix + "block", "block", 0, RequestFields.MAX_BLOCK);
      JsonNode score = entry.get("score");
      if (score == null || !score.isNumber() || !Double.isFinite(score.asDouble()) || score.asDouble() < 0) {
        throw ApiException.badField(prefix + "score", "score must be a finite number >= 0");
      }
      JsonNode invalid = entry.get("invalid");
      if (invalid != null && !invalid.isBoolean()) throw ApiException.badField(prefix + "invalid", "invalid must be true or false");
      boolean isInvalid = invalid != null && invalid.asBoolean();
      entries.add(new WeightsService.Entry(uid, null, null, block, score.asDouble(), isInvalid ? "marked invalid by the caller" : null));
    }
    WeightsService.Burn burn = burn(fields);
    fields.rejectUnknown("entries");
    List<WeightsService.Row> rows = weights.preview(entries, burn);
    return CompletableFuture.completedFuture(json(StatusCodes.OK, views.weights(0, rows, null, null)));
  }

  private CompletionStage<HttpResponse> evaluateModel(JsonNode body, Optional<String> ignoredBearer) {
    RequestFields fields = RequestFields.ofJson(body);
    ModelDetails details = modelDetails(fields);
    fields.rejectUnknown();
    return submissions.evaluate(details).thenApply(state -> json(StatusCodes.OK, views.record(state)));
  }

  private CompletionStage<HttpResponse> recordResult(JsonNode body, Optional<String> ignoredBearer) {
    RequestFields fields = RequestFields.ofJson(body);
    ModelDetails details = modelDetails(fields);
    String source = fields.optional("source") == null ? "import" : fields.optional("source");
    if (source.length() > 64) throw ApiException.badField("source", "source must be at most 64 characters");
    JsonNode scoreNode = body.get("score");
    if (scoreNode == null || !scoreNode.isObject()) throw ApiException.badField("score", "score must be an object of scores");
    scoreNode.fieldNames().forEachRemaining(name -> {
      if (!SCORE_FIELDS.contains(name)) throw ApiException.badField("score." + name, "unknown score " + name);
    });
    Scores given =
        new Scores(
            scoreField(scoreNode, "model_size_score"),
            scoreField(scoreNode, "qualitative_score"),
            scoreField(scoreNode, "latency_score"),
            scoreField(scoreNode, "total_score"),
            scoreField(scoreNode, "coherence_score"),
            scoreField(scoreNode, "creativity_score"),
            scoreField(scoreNode, "post_eval_score"),
            scoreField(scoreNode, "judge_score"));
    Scores scores =
        given.totalScore() != null
            ? given
            : given.withTotalScore(
                TotalScore.of(
                    new ScoreInputs(given.qualitativeScore(), given.creativityScore(), given.latencyScore(), given.coherenceScore(), given.judgeScore()),
                    scoring));
    if (scores.totalScore() == null) {
      throw ApiException.badField("score.total_score", "total_score is required unless the other scores determine it under the configured rule");
    }
    fields.rejectUnknown("score");
    return submissions.recordResult(details, scores, source).thenApply(state -> json(StatusCodes.OK, views.record(state)));
  }

  private static final java.util.Set<String> SCORE_FIELDS =
      java.util.Set.of(
          "model_size_score", "qualitative_score", "latency_score", "total_score", "coherence_score", "creativity_score", "post_eval_score", "judge_score");

  // ---- the dashboard's reads ---------------------------------------------------------------------

  private static final int DEFAULT_LIST_LIMIT = 200;
  private static final int MAX_LIST_LIMIT = 1000;

  /** Models by total score, best first, with how many models are in each status. */
  private CompletionStage<HttpResponse> leaderboard(Map<String, String> query) {
    int limit = listLimit(query, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT);
    return blocking(() -> Map.entry(readSide.leaderboard(limit), readSide.modelsByStatus()))
        .thenApply(
            found -> {
              ObjectNode answer = mapper.createObjectNode();
              ObjectNode counts = answer.putObject("counts");
              for (ModelStatus status : ModelStatus.values()) {
                counts.put(status.name(), found.getValue().getOrDefault(status, 0));
              }
              answer.set("models", views.modelRows(found.getKey()));
              return json(StatusCodes.OK, answer);
            });
  }

  /** Models waiting or being evaluated: running first, then in precheck, then queued, oldest first. */
  private CompletionStage<HttpResponse> queue(Map<String, String> query) {
    int limit = listLimit(query, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT);
    return blocking(() -> readSide.pipeline(limit)).thenApply(models -> json(StatusCodes.OK, mapper.createObjectNode().set("models", views.modelRows(models))));
  }

  /** The cluster's members and each gpu-node's worker slots, with the model each slot is evaluating. */
  private CompletionStage<HttpResponse> nodes() {
    return ClusterView.nodes(system, settings.askTimeout())
        .thenCombine(
            blocking(readSide::evaluating),
            (nodes, evaluating) -> {
              ObjectNode answer = mapper.createObjectNode().put("self", Cluster.get(system).selfMember().address().hostPort());
              answer.set("members", views.nodes(nodes, evaluating));
              return json(StatusCodes.OK, answer);
            });
  }

  private static final int DEFAULT_WEIGHTS_STEPS = 50;
  private static final int MAX_WEIGHTS_STEPS = 500;

  /** The moving average of the weights after each of the latest folded steps, oldest first. */
  private CompletionStage<HttpResponse> weightsHistory(Map<String, String> query) {
    int limit = listLimit(query, DEFAULT_WEIGHTS_STEPS, MAX_WEIGHTS_STEPS);
    return weights.history(limit).thenApply(folds -> json(StatusCodes.OK, mapper.createObjectNode().set("steps", views.weightsHistory(folds))));
  }

  /** A model's record by its hash alone (the same record as {@code /model_submission_details}). */
  private CompletionStage<HttpResponse> model(String hash) {
    return record(pathHash(hash));
  }

  /** The model hash of a path, {@code /models/{hash}...}, in canonical form; 400 naming {@code hash} otherwise. */
  private static String pathHash(String segment) {
    return RequestFields.ofQuery(Map.of("hash", segment)).modelHash("hash");
  }

  /** The {@code limit} query parameter of a list (the only parameter lists take). */
  private static int listLimit(Map<String, String> query, int defaultLimit, int maxLimit) {
    RequestFields fields = RequestFields.ofQuery(query);
    Long limit = fields.optionalLongInRange("limit", 1, maxLimit);
    fields.rejectUnknown();
    return limit == null ? defaultLimit : limit.intValue();
  }

  /** The judge's verdicts of the model's latest judged attempt, a page at a time (page from 1). */
  private CompletionStage<HttpResponse> verdicts(String hash, Map<String, String> query) {
    String canonical = pathHash(hash);
    RequestFields fields = RequestFields.ofQuery(query);
    Long page = fields.optionalLongInRange("page", 1, Integer.MAX_VALUE);
    Long pageSize = fields.optionalLongInRange("page_size", 1, MAX_VERDICT_PAGE_SIZE);
    int size = pageSize == null ? DEFAULT_VERDICT_PAGE_SIZE : pageSize.intValue();
    int number = page == null ? 1 : page.intValue();
    long offset = (long) (number - 1) * size;
    if (offset > Integer.MAX_VALUE) throw ApiException.badField("page", "page is beyond the last verdict");
    return blocking(() -> readSide.verdicts(canonical, (int) offset, size))
        .thenApply(
            found -> {
              ArrayNode list = mapper.createArrayNode();
              for (String body : found.bodies()) {
                try {
                  list.add(mapper.readTree(body));
                } catch (java.io.IOException e) {
                  throw new CompletionException(e);
                }
              }
              ObjectNode answer = mapper.createObjectNode().put("hash", canonical).put("attempt", found.attempt());
              answer.put("page", number).put("page_size", size).put("total", found.total());
              answer.set("verdicts", list);
              return json(StatusCodes.OK, answer);
            });
  }

  private static final int DEFAULT_VERDICT_PAGE_SIZE = 20;
  private static final int MAX_VERDICT_PAGE_SIZE = 100;

  private CompletionStage<HttpResponse> events(String hash) {
    String canonical = pathHash(hash);
    JdbcReadJournal journal = PersistenceQuery.get(system).getReadJournalFor(JdbcReadJournal.class, JdbcReadJournal.Identifier());
    String persistenceId = ModelEvaluation.TYPE_KEY.name() + "|" + canonical;
    return journal
        .currentEventsByPersistenceId(persistenceId, 0L, Long.MAX_VALUE)
        .runWith(Sink.seq(), materializer)
        .thenApply(
            envelopes -> {
              if (envelopes.isEmpty()) throw ApiException.notFound("no model with hash " + canonical + " was submitted");
              ArrayNode list = mapper.createArrayNode();
              for (var envelope : envelopes) {
                ObjectNode node = list.addObject();
                node.put("sequence_nr", envelope.sequenceNr());
                node.put("type", envelope.event().getClass().getSimpleName());
                node.set("event", mapper.valueToTree(envelope.event()));
              }
              return json(StatusCodes.OK, mapper.createObjectNode().put("hash", canonical).set("events", list));
            });
  }

  // ---- request parts ----------------------------------------------------------------------------

  /** The model fields common to submissions, lookups and imports, with the hash recomputed and checked. */
  private ModelDetails modelDetails(RequestFields fields) {
    String namespace = fields.repoPart("repo_namespace");
    String name = fields.repoPart("repo_name");
    String template = fields.oneOf("chat_template_type", settings.chatTemplates());
    String hotkey = fields.hotkey("hotkey");
    String hash = fields.modelHash("hash");
    if (!hash.equals(ModelHash.of(namespace, name, template, hotkey))) {
      throw new ApiException(StatusCodes.BAD_REQUEST, "hash", "Hash does not match the model details");
    }
    Long block = fields.optionalLongInRange("block", 0, RequestFields.MAX_BLOCK);
    return new ModelDetails(hash, namespace, name, template, hotkey, block == null ? 0 : block, fields.revision("revision"), fields.competitionId("competition_id"));
  }

  private WeightsService.Burn burn(RequestFields fields) {
    Long uid = fields.optionalLongInRange("burn_uid", 0, settings.maxUid());
    Double share = fields.optionalFraction("burn_share");
    if (uid == null && share == null) return null;
    if (uid == null) throw ApiException.badField("burn_uid", "burn_uid is required with burn_share");
    if (share == null) throw ApiException.badField("burn_share", "burn_share is required with burn_uid");
    return new WeightsService.Burn(uid.intValue(), share);
  }

  private static int entryInt(JsonNode entry, String field, String key, long min, long max) {
    JsonNode value = entry.get(key);
    if (value == null || !value.canConvertToExactIntegral() || value.asLong() < min || value.asLong() > max) {
      throw ApiException.badField(field, field + " must be an integer in " + min + ".." + max);
    }
    return (int) Math.min(Integer.MAX_VALUE, value.asLong());
  }

  private static Double scoreField(JsonNode score, String key) {
    JsonNode value = score.get(key);
    if (value == null || value.isNull()) return null;
    if (!value.isNumber() || !Double.isFinite(value.asDouble()) || value.asDouble() < 0) {
      throw ApiException.badField("score." + key, "score." + key + " must be a finite number >= 0");
    }
    return value.asDouble();
  }

  // ---- plumbing ---------------------------------------------------------------------------------

  /**
   * Every route goes through here: its latency and status are measured, and its rate limit per client
   * address answers 429 with Retry-After once the client's bucket is empty.
   */
  private Route limited(String route, java.util.function.Supplier<Route> inner) {
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


  /** Reads the JSON body (see {@link JsonBodies}) and hands it, with the bearer token if any, to the route. */
  private Route withBody(BodyHandler handler) {
    return optionalHeaderValueByName(
        "Authorization",
        authorization ->
            extractRequestEntity(
                entity -> respond(() -> bodies.read(entity).thenCompose(body -> handler.handle(body, authorization.flatMap(HttpApi::bearerToken))))));
  }

  @FunctionalInterface
  private interface BodyHandler {
    CompletionStage<HttpResponse> handle(JsonNode body, Optional<String> bearer);
  }

  private Route withBody(Function<JsonNode, CompletionStage<HttpResponse>> handler) {
    return withBody((BodyHandler) (body, bearer) -> handler.apply(body));
  }

  /** Admin routes: 401 without an admin token; with one, the action is recorded with who and when. */
  private Route admin(String route, Supplier<Route> inner) {
    return optionalHeaderValueByName(
        "Authorization",
        authorization ->
            adminTokens
                .fingerprint(authorization.flatMap(HttpApi::bearerToken).orElse(null))
                .map(who -> mapResponse(response -> audited(who, route, response), inner))
                .orElseGet(() -> complete(unauthorized())));
  }

  /** Records an admin action once it is answered; a record that cannot be written is logged, not fatal. */
  private HttpResponse audited(String who, String route, HttpResponse response) {
    ReadSide.AdminAction action = new ReadSide.AdminAction(java.time.Instant.now(), who, route, response.status().intValue());
    blocking(() -> {
          readSide.recordAdminAction(action);
          return action;
        })
        .exceptionally(
            failure -> {
              system.log().error("admin action {} could not be recorded: {}", action, failure.getMessage());
              return action;
            });
    return response;
  }

  private CompletionStage<HttpResponse> adminActions(Map<String, String> query) {
    Long limit = RequestFields.ofQuery(query).optionalLongInRange("limit", 1, 1000);
    return blocking(() -> readSide.adminActions(limit == null ? 100 : limit.intValue()))
        .thenApply(
            actions -> {
              ArrayNode list = mapper.createArrayNode();
              for (ReadSide.AdminAction a : actions) {
                list.addObject().put("at", a.at().toString()).put("who", a.who()).put("action", a.action()).put("status", a.status());
              }
              return json(StatusCodes.OK, mapper.createObjectNode().set("actions", list));
            });
  }

  private static Optional<String> bearerToken(String authorization) {
    return authorization.regionMatches(true, 0, "Bearer ", 0, 7) ? Optional.of(authorization.substring(7).trim()) : Optional.empty();
  }

  /** Runs a route's work and turns any failure into the JSON error it stands for. */
  private Route respond(Supplier<CompletionStage<HttpResponse>> work) {
    CompletionStage<HttpResponse> response;
    try {
      response = work.get();
    } catch (RuntimeException e) {
      response = CompletableFuture.failedFuture(e);
    }
    return completeWithFuture(response.exceptionally(this::errorResponse));
  }

  private <T> CompletionStage<T> blocking(SqlSupplier<T> query) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return query.get();
          } catch (SQLException e) {
            throw new CompletionException(e);
          }
        },
        blocking);
  }

  @FunctionalInterface
  private interface SqlSupplier<T> {
    T get() throws SQLException;
  }

  private HttpResponse errorResponse(Throwable failure) {
    Throwable cause = failure;
    while ((cause instanceof CompletionException || cause instanceof java.util.concurrent.ExecutionException) && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof ApiException api) return api.response();
    if (cause instanceof StatusReply.ErrorMessage refused) return error(StatusCodes.CONFLICT, null, refused.getMessage());
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

  private HttpResponse unauthorized() {
    return error(StatusCodes.UNAUTHORIZED, "Authorization", "an admin token is required: Authorization: Bearer <token>");
  }

  HttpResponse error(StatusCode status, String field, String detail) {
    return new ApiException(status, field, detail).response();
  }

  private HttpResponse json(StatusCode status, JsonNode body) {
    try {
      return HttpResponse.create().withStatus(status).withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, mapper.writeValueAsBytes(body)));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a JSON tree always serialises", e);
    }
  }

  /** Pekko's own rejections (wrong method, unknown path) as JSON bodies too. */
  private RejectionHandler jsonRejections() {
    return RejectionHandler.defaultHandler()
        .mapRejectionResponse(
            response -> {
              if (!(response.entity() instanceof HttpEntity.Strict strict)) return response;
              String text = strict.getData().utf8String();
              return response.withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, mapper.createObjectNode().put("detail", text).toString()));
            });
  }
}
