package io.sn11.coordinator.http;

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
import io.sn11.coordinator.CoordinatorSettings;
import io.sn11.coordinator.dispatch.ScoringVersion;
import io.sn11.coordinator.evaluation.ModelEvaluation;
import io.sn11.coordinator.evaluation.Submissions;
import io.sn11.coordinator.readside.ReadSide;
import io.sn11.coordinator.registry.MinerRegistration;
import io.sn11.coordinator.weights.WeightsService;
import java.util.List;
import java.util.Map;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Function;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RetryAfter;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * The coordinator's HTTP API: the subnet's validation API (same paths and JSON shapes) plus our own
 * routes. Every refusal is a JSON body {@code {"detail": ..., "field": ...}} with a 4xx status.
 */
public final class HttpApi extends ApiDirectives {
  private final ScoringSettings scoring;
  private final Submissions submissions;
  private final WeightsService weights;
  private final WeightsRequests weightsRequests;
  private final JsonViews views;
  private final TokenBuckets openSubmissionLimiter;
  private final ValidatorReports validatorReports;

  public HttpApi(
      ActorSystem<?> system,
      CoordinatorSettings settings,
      ScoringSettings scoring,
      Submissions submissions,
      WeightsService weights,
      ReadSide readSide,
      Executor blocking,
      ObjectMapper mapper) {
    super(system, settings, readSide, blocking, mapper);
    this.scoring = scoring;
    this.submissions = submissions;
    this.weights = weights;
    this.views = new JsonViews(mapper);
    this.weightsRequests = new WeightsRequests(weights, views, settings);
    this.openSubmissionLimiter = new TokenBuckets(settings.openRatePerHotkeyPerHour(), Duration.ofHours(1), System::nanoTime);
    this.validatorReports = new ValidatorReports(mapper, settings.maxUid());
  }

  public Route routes() {
    return handleRejections(
        jsonRejections(),
        () ->
            concat(
                path("hc", () -> limited("hc", () -> get(() -> respond(this::health)))),
                path(
                    PathMatchers.segment("weights").slash("preview"),
                    () -> limited("weights_preview", () -> post(() -> withBody(body -> ok(CompletableFuture.completedFuture(weightsRequests.stepOf(body))))))),
                path("check_model", () -> limited("check_model", () -> withDatabase(post(() -> withBody(this::checkModel))))),
                path(
                    "model_submission_details",
                    () -> limited("model_submission_details", () -> withDatabase(get(() -> parameterMap(query -> respond(() -> submissionDetails(query))))))),
                path(
                    "minerboard_update",
                    () -> limited("minerboard_update", () -> withDatabase(post(() -> subnetAdmin("minerboard_update", this::minerboardUpdate))))),
                path("minerboard", () -> limited("minerboard", () -> withDatabase(get(() -> respond(this::minerboard))))),
                path("weights", () -> limited("weights", () -> withDatabase(get(() -> parameterMap(query -> respond(() -> ok(weightsRequests.read(query)))))))),
                path(
                    "telemetry_report",
                    () ->
                        limited(
                            "telemetry_report",
                            () -> withDatabase(post(() -> extractRequest(request -> withReport(body -> validatorReports.telemetry(request, body, Instant.now()))))))),
                path("event_report", () -> limited("event_report", () -> withDatabase(post(() -> withReport(body -> validatorReports.event(body, Instant.now())))))),
                path("validators", () -> limited("validators", () -> withDatabase(get(() -> parameterMap(query -> respond(() -> validators(query))))))),
                path("evaluate_model", () -> limited("evaluate_model", () -> withDatabase(post(() -> subnetAdmin("evaluate_model", this::evaluateModel))))),
                path(
                    PathMatchers.segment("admin").slash("results"),
                    () -> limited("admin_results", () -> withDatabase(post(() -> admin("admin_results", () -> withBody(this::recordResult)))))),
                path(
                    PathMatchers.segment("admin").slash("weights").slash("fold"),
                    () -> limited("admin_weights_fold", () -> withDatabase(post(() -> admin("admin_weights_fold", () -> withBody(body -> ok(weightsRequests.fold(body)))))))),
                path(
                    PathMatchers.segment("admin").slash("rescore"),
                    () -> limited("admin_rescore", () -> withDatabase(post(() -> subnetAdmin("admin_rescore", this::rescore))))),
                path(
                    PathMatchers.segment("admin").slash("actions"),
                    () -> limited("admin_actions", () -> withDatabase(get(() -> admin("admin_actions", () -> parameterMap(query -> respond(() -> adminActions(query)))))))),
                pathSingleSlash(() -> limited("dashboard", () -> get(() -> getFromResource("dashboard/index.html")))),
                pathPrefix("dashboard", () -> limited("dashboard", () -> get(() -> getFromResourceDirectory("dashboard")))),
                path("leaderboard", () -> limited("leaderboard", () -> withDatabase(get(() -> parameterMap(query -> respond(() -> leaderboard(query))))))),
                path("queue", () -> limited("queue", () -> withDatabase(get(() -> parameterMap(query -> respond(() -> queue(query))))))),
                path("nodes", () -> limited("nodes", () -> withDatabase(get(() -> respond(this::nodes))))),
                path(PathMatchers.segment("scoring").slash("fingerprint"), () -> limited("scoring_fingerprint", () -> get(() -> respond(this::scoringFingerprint)))),
                path(
                    PathMatchers.segment("weights").slash("history"),
                    () -> limited("weights_history", () -> withDatabase(get(() -> parameterMap(query -> respond(() -> weightsHistory(query))))))),
                path(PathMatchers.segment("models").slash(PathMatchers.segment()), hash -> limited("model", () -> withDatabase(get(() -> respond(() -> model(hash)))))),
                path(
                    PathMatchers.segment("models").slash(PathMatchers.segment()).slash("events"),
                    hash -> limited("model_events", () -> withDatabase(get(() -> respond(() -> events(hash)))))),
                path(
                    PathMatchers.segment("models").slash(PathMatchers.segment()).slash("scores"),
                    hash -> limited("model_scores", () -> withDatabase(get(() -> parameterMap(query -> respond(() -> scoreHistory(hash, query))))))),
                path(
                    PathMatchers.segment("models").slash(PathMatchers.segment()).slash("verdicts"),
                    hash -> limited("model_verdicts", () -> withDatabase(get(() -> parameterMap(query -> respond(() -> verdicts(hash, query)))))))));
  }

  // ---- routes -----------------------------------------------------------------------------------

  /** Healthy when the node is Up and the database answers, by the same probe that gates the routes needing it. */
  private CompletionStage<HttpResponse> health() {
    boolean healthy = Cluster.get(system).selfMember().status() == MemberStatus.up() && databaseAnswering();
    return CompletableFuture.completedFuture(json(healthy ? StatusCodes.OK : StatusCodes.SERVICE_UNAVAILABLE, mapper.createObjectNode().put("g", healthy)));
  }

  private CompletionStage<HttpResponse> checkModel(JsonNode body, Optional<String> bearer) {
    RequestFields fields = RequestFields.ofJson(body);
    Optional<String> admin = adminOf(bearer, fields);
    // Without a valid credential a closed API says nothing about the body: 401 before any validation.
    if (!settings.openSubmissions() && admin.isEmpty()) return CompletableFuture.completedFuture(unauthorized());
    CompletionStage<HttpResponse> answered = answered(() -> submit(fields));
    return admin.map(who -> answered.thenCompose(response -> audited(who, "check_model", response))).orElse(answered);
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
    return submissions.submit(details, true).thenApply(state -> json(StatusCodes.OK, views.subnetRecord(state)));
  }

  /** The model's record from its entity; {@code null} when nobody submitted it, as the subnet answers (its validator reads "no record"). */
  private CompletionStage<HttpResponse> submissionDetails(Map<String, String> query) {
    return submissions
        .get(modelDetails(RequestFields.ofQuery(query)).hash())
        .thenApply(state -> json(StatusCodes.OK, state.isEmpty() ? mapper.nullNode() : views.subnetRecord(state)));
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

  private CompletionStage<HttpResponse> evaluateModel(JsonNode body) {
    RequestFields fields = RequestFields.ofJson(body);
    ModelDetails details = modelDetails(fields);
    fields.rejectUnknown();
    return submissions.evaluate(details).thenApply(state -> json(StatusCodes.OK, views.subnetRecord(state)));
  }

  private CompletionStage<HttpResponse> recordResult(JsonNode body, Optional<String> ignoredBearer) {
    RequestFields fields = RequestFields.ofJson(body);
    ModelDetails details = modelDetails(fields);
    // Required here: an imported model recorded at block 0 would show block 0 and, as the earliest of its
    // repository, make every later submission of it a duplicate.
    fields.longInRange("block", 0, RequestFields.MAX_BLOCK);
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

  private static final int DEFAULT_RESCORE_LIMIT = 1000;
  private static final int MAX_RESCORE_LIMIT = 10_000;

  /**
   * Queues a rescore of the COMPLETED models scored under another fingerprint than the body's {@code fingerprint}
   * ({@code all}: of every COMPLETED model), at most {@code limit} of them; answers which were queued and whether
   * more remain (a further request queues the next ones).
   */
  private CompletionStage<HttpResponse> rescore(JsonNode body) {
    RequestFields fields = RequestFields.ofJson(body);
    String fingerprint = fields.fingerprint("fingerprint");
    Long limit = fields.optionalLongInRange("limit", 1, MAX_RESCORE_LIMIT);
    fields.rejectUnknown();
    return requiredFingerprint()
        .thenCompose(
            version -> {
              // Every evaluation is scored under the required fingerprint: a rescore asked under another could never reach it.
              String required = version.requiredId();
              if (!"all".equals(fingerprint) && required != null && !required.equals(fingerprint)) {
                throw new ApiException(
                    StatusCodes.CONFLICT, "fingerprint",
                    "rescores are scored under the required fingerprint " + required + ": ask for " + required + " or all");
              }
              return submissions.rescore(fingerprint, limit == null ? DEFAULT_RESCORE_LIMIT : limit.intValue());
            })
        .thenApply(
            outcome -> {
              ObjectNode answer = mapper.createObjectNode().put("fingerprint", fingerprint).put("queued", outcome.queued().size());
              outcome.queued().forEach(answer.putArray("hashes")::add);
              answer.put("more", outcome.more());
              return json(StatusCodes.OK, answer);
            });
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

  // ---- the validators' reports -------------------------------------------------------------------

  /** A validator's report, read by {@code read} from a body within its own size limit and stored before the 2xx. */
  private Route withReport(Function<JsonNode, ReadSide.ValidatorReport> read) {
    CoordinatorSettings.ValidatorReports limits = settings.validatorReports();
    return withBody(
        limits.maxBodyBytes(),
        (body, ignoredBearer) -> {
          ReadSide.ValidatorReport report = read.apply(body);
          return blocking(() -> {
                readSide.recordValidatorReport(report, limits.keepReports(), limits.keepValidators());
                return report;
              })
              .thenApply(
                  stored ->
                      json(
                          StatusCodes.OK,
                          mapper.createObjectNode().put("kind", stored.kind()).put("hotkey", stored.hotkey()).put("received_at", stored.at().toString())));
        });
  }

  /** Each validator's latest report, the latest to report first. */
  private CompletionStage<HttpResponse> validators(Map<String, String> query) {
    int limit = listLimit(query, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT);
    return blocking(() -> readSide.validators(limit)).thenApply(found -> json(StatusCodes.OK, mapper.createObjectNode().set("validators", views.validators(found))));
  }

  // ---- the dashboard's reads ---------------------------------------------------------------------

  private static final int DEFAULT_LIST_LIMIT = 200;
  private static final int MAX_LIST_LIMIT = 1000;

  /** Models by total score, best first, with how many models are in each status. */
  private CompletionStage<HttpResponse> leaderboard(Map<String, String> query) {
    RequestFields fields = RequestFields.ofQuery(query);
    String fingerprint = fields.optionalFingerprint("fingerprint");
    int limit = listLimit(fields, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT);
    return blocking(() -> Map.entry(fingerprint == null ? readSide.leaderboard(limit) : readSide.leaderboard(limit, fingerprint), readSide.modelsByStatus()))
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

  /**
   * The cluster's members and each gpu-node's worker slots, with the model each slot is evaluating, and each gpu-node's
   * scoring fingerprint against the required one.
   */
  private CompletionStage<HttpResponse> nodes() {
    return ClusterView.nodes(system, settings.askTimeout())
        .thenCombine(blocking(readSide::evaluating), Map::entry)
        .thenCombine(
            requiredFingerprint(),
            (found, version) -> {
              ObjectNode answer = mapper.createObjectNode().put("self", Cluster.get(system).selfMember().address().hostPort());
              ScoringVersion.Requirement required = version.required();
              if (required == null) answer.putNull("required_fingerprint");
              else answer.set("required_fingerprint", views.requirement(required));
              answer.set("members", views.nodes(found.getKey(), found.getValue(), version.requiredId()));
              return json(StatusCodes.OK, answer);
            });
  }

  /** The fingerprint required now, the configured one, and every one required so far (oldest first). */
  private CompletionStage<HttpResponse> scoringFingerprint() {
    return requiredFingerprint()
        .thenApply(
            version -> {
              ObjectNode answer = mapper.createObjectNode();
              if (version.required() == null) answer.putNull("required");
              else answer.set("required", views.requirement(version.required()));
              answer.put("configured", settings.requiredFingerprint());
              ArrayNode history = answer.putArray("history");
              version.history().forEach(requirement -> history.add(views.requirement(requirement)));
              return json(StatusCodes.OK, answer);
            });
  }

  private CompletionStage<ScoringVersion.State> requiredFingerprint() {
    return ScoringVersion.entity(system).ask(ScoringVersion.Get::new, settings.askTimeout());
  }

  private static final int DEFAULT_WEIGHTS_STEPS = 50;
  private static final int MAX_WEIGHTS_STEPS = 500;

  /** The moving average of the weights after each of the latest folded steps, oldest first. */
  private CompletionStage<HttpResponse> weightsHistory(Map<String, String> query) {
    int limit = listLimit(query, DEFAULT_WEIGHTS_STEPS, MAX_WEIGHTS_STEPS);
    return weights.history(limit).thenApply(folds -> json(StatusCodes.OK, mapper.createObjectNode().set("steps", views.weightsHistory(folds))));
  }

  /** A model's record by its hash alone, with null for the scores not measured; 404 when nobody submitted it. */
  private CompletionStage<HttpResponse> model(String segment) {
    String hash = pathHash(segment);
    return submissions
        .get(hash)
        .thenApply(
            state -> {
              if (state.isEmpty()) throw ApiException.notFound("no model with hash " + hash + " was submitted");
              return json(StatusCodes.OK, views.record(state));
            });
  }

  /** The model hash of a path, {@code /models/{hash}...}, in canonical form; 400 naming {@code hash} otherwise. */
  private static String pathHash(String segment) {
    return RequestFields.ofQuery(Map.of("hash", segment)).modelHash("hash");
  }

  /** The {@code limit} query parameter of a list (the only parameter lists take). */
  private static int listLimit(Map<String, String> query, int defaultLimit, int maxLimit) {
    return listLimit(RequestFields.ofQuery(query), defaultLimit, maxLimit);
  }

  /** The {@code limit} parameter of a list, read last: any parameter not read before is refused. */
  private static int listLimit(RequestFields fields, int defaultLimit, int maxLimit) {
    Long limit = fields.optionalLongInRange("limit", 1, maxLimit);
    fields.rejectUnknown();
    return limit == null ? defaultLimit : limit.intValue();
  }

  /** Every result of the model (completed or failed for good) with its fingerprint, newest first; 404 when nobody submitted it. */
  private CompletionStage<HttpResponse> scoreHistory(String segment, Map<String, String> query) {
    String hash = pathHash(segment);
    int limit = listLimit(query, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT);
    return blocking(() -> readSide.model(hash).isEmpty() ? Optional.<List<ReadSide.HistoryRow>>empty() : Optional.of(readSide.scoreHistory(hash, limit)))
        .thenApply(
            history -> {
              if (history.isEmpty()) throw ApiException.notFound("no model with hash " + hash + " was submitted");
              return json(StatusCodes.OK, mapper.createObjectNode().put("hash", hash).set("scores", views.scoreHistory(history.get())));
            });
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

  private static Double scoreField(JsonNode score, String key) {
    JsonNode value = score.get(key);
    if (value == null || value.isNull()) return null;
    if (!value.isNumber() || !Double.isFinite(value.asDouble()) || value.asDouble() < 0) {
      throw ApiException.badField("score." + key, "score." + key + " must be a finite number >= 0");
    }
    return value.asDouble();
  }

}
