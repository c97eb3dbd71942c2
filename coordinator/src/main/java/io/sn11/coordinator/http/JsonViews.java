package io.sn11.coordinator.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sn11.cluster.domain.Failure;
import io.sn11.cluster.domain.ModelDetails;
import io.sn11.cluster.domain.Scores;
import io.sn11.coordinator.evaluation.ModelEvaluation;
import io.sn11.cluster.domain.ModelStatus;
import io.sn11.coordinator.readside.ModelRow;
import io.sn11.coordinator.readside.ReadSide;
import io.sn11.coordinator.readside.RegistryRow;
import io.sn11.coordinator.weights.WeightsLedger;
import io.sn11.coordinator.weights.WeightsService;
import io.sn11.coordinator.dispatch.ScoringVersion;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The JSON shapes of the API: the subnet's record shape, the minerboard, the weights. */
final class JsonViews {
  private final ObjectMapper mapper;

  JsonViews(ObjectMapper mapper) {
    this.mapper = mapper;
  }

  /** {@code {status, score: {...}, details: {...}}} as the subnet's validation API answers it. */
  ObjectNode record(ModelEvaluation.State state) {
    ObjectNode node = mapper.createObjectNode();
    node.put("status", state.status().name());
    node.set("score", scores(state.scores()));
    ObjectNode details = details(state.details());
    details.put("attempt", state.attempt());
    details.put("score_source", state.scoreSource());
    details.put("duplicate_of", state.duplicateOf());
    putFailure(details, state.failure());
    if (state.progress() == null) {
      details.putNull("progress");
    } else {
      ObjectNode progress = details.putObject("progress");
      progress.put("phase", state.progress().phase());
      progress.put("fraction", state.progress().fraction());
    }
    ObjectNode evaluation = details.putObject("evaluation");
    state.evaluationInfo().forEach(evaluation::put);
    details.put("scoring_fingerprint", state.scoringFingerprint());
    ModelEvaluation.PendingRescore rescore = state.rescore();
    if (rescore == null) {
      details.putNull("rescore");
    } else {
      ObjectNode r = details.putObject("rescore");
      r.put("status", rescore.status().name()).put("fingerprint", rescore.fingerprint()).put("requested_at", timestamp(rescore.requestedAt()));
      putFailure(r, rescore.failure());
    }
    details.put("submitted_at", timestamp(state.submittedAt()));
    details.put("updated_at", timestamp(state.updatedAt()));
    node.set("details", details);
    return node;
  }

  /**
   * The record as the subnet's own routes answer it: a score that was not measured is left out rather than
   * null. The subnet's validator reads each score with a default for a missing key; a null would become
   * Python's None and break its total and its win-rate comparison.
   */
  ObjectNode subnetRecord(ModelEvaluation.State state) {
    ObjectNode node = record(state);
    node.set("score", measuredScores(state.scores()));
    return node;
  }

  /** The scores that were measured; those that were not are left out. */
  ObjectNode measuredScores(Scores s) {
    ObjectNode measured = mapper.createObjectNode();
    scores(s).fields().forEachRemaining(score -> {
      if (!score.getValue().isNull()) measured.set(score.getKey(), score.getValue());
    });
    return measured;
  }

  ObjectNode scores(Scores s) {
    ObjectNode score = mapper.createObjectNode();
    score.put("model_size_score", s.modelSizeScore());
    score.put("qualitative_score", s.qualitativeScore());
    score.put("latency_score", s.latencyScore());
    score.put("total_score", s.totalScore());
    score.put("coherence_score", s.coherenceScore());
    score.put("creativity_score", s.creativityScore());
    score.put("post_eval_score", s.postEvalScore());
    score.put("judge_score", s.judgeScore());
    return score;
  }

  private ObjectNode details(ModelDetails d) {
    ObjectNode details = mapper.createObjectNode();
    details.put("model_hash", d.hash());
    details.put("repo_namespace", d.repoNamespace());
    details.put("repo_name", d.repoName());
    details.put("chat_template_type", d.chatTemplateType());
    details.put("hotkey", d.hotkey());
    details.put("block", d.block());
    details.put("revision", d.revisionOrDefault());
    details.put("competition_id", d.competitionId());
    return details;
  }

  /**
   * The registry as the subnet serves it: each row flat, the model's record fields (status, repository, the
   * measured scores) beside the entry's uid, hotkey, hash and block; a uid whose model is unknown has no
   * record fields.
   */
  ArrayNode minerboard(List<RegistryRow> registry) {
    ArrayNode rows = mapper.createArrayNode();
    for (RegistryRow r : registry) {
      ObjectNode row = rows.addObject();
      row.put("uid", r.uid());
      row.put("hotkey", r.hotkey());
      row.put("hash", r.hash());
      row.put("block", r.block());
      row.put("updated_at", timestamp(r.updatedAt()));
      r.model()
          .ifPresent(
              m -> {
                row.put("status", m.status().name());
                row.put("repo_namespace", m.details().repoNamespace());
                row.put("repo_name", m.details().repoName());
                row.put("chat_template_type", m.details().chatTemplateType());
                row.put("duplicate_of", m.duplicateOf());
                row.put("failure_reason", m.failure() == null ? null : m.failure().reason());
                row.setAll(measuredScores(m.scores()));
              });
    }
    return rows;
  }

  /** A step and its average: a preview of a fold ({@code preview}) or a fold that is persisted. */
  ObjectNode weights(WeightsService.Result result, boolean preview) {
    ObjectNode node = mapper.createObjectNode().put("preview", preview).put("current_block", result.currentBlock());
    putLastFoldedBlock(node, result.lastFoldedBlock());
    node.set("uids", weightRows(result.rows()));
    return node;
  }

  /** A step over entries the caller gave: no block, no average. */
  ObjectNode stepOf(List<WeightsService.Row> rows) {
    ObjectNode node = mapper.createObjectNode().put("current_block", 0);
    node.set("uids", weightRows(rows));
    return node;
  }

  /** The last folded state: the moving average of every uid, by uid. */
  ObjectNode foldedWeights(WeightsLedger.State state) {
    ObjectNode node = mapper.createObjectNode().put("preview", false);
    putLastFoldedBlock(node, state.lastBlock());
    node.put("steps", state.steps());
    ArrayNode uids = node.putArray("uids");
    new TreeMap<>(state.average()).forEach((uid, weight) -> uids.addObject().put("uid", uid).put("weight", weight));
    return node;
  }

  /** The ledger's -1 (nothing folded yet) is null. */
  private static void putLastFoldedBlock(ObjectNode node, long lastFoldedBlock) {
    if (lastFoldedBlock < 0) node.putNull("last_folded_block");
    else node.put("last_folded_block", lastFoldedBlock);
  }

  private ArrayNode weightRows(List<WeightsService.Row> rows) {
    ArrayNode uids = mapper.createArrayNode();
    for (WeightsService.Row row : rows) {
      ObjectNode u = uids.addObject();
      WeightsService.Entry e = row.entry();
      u.put("uid", e.uid());
      u.put("hotkey", e.hotkey());
      u.put("hash", e.hash());
      u.put("block", e.block());
      u.put("score", e.score());
      u.put("invalid", e.invalid());
      u.put("reason", e.invalidReason());
      u.put("wins", row.wins());
      // JSON has no infinity: minus infinity (cannot win) is written as null.
      if (Double.isFinite(row.winRate())) u.put("win_rate", row.winRate());
      else u.putNull("win_rate");
      u.put("step_weight", row.stepWeight());
      if (row.weight() != null) u.put("weight", row.weight());
    }
    return uids;
  }

  /** A model as the read side holds it: the dashboard's leaderboard and queue rows. */
  ObjectNode modelRow(ModelRow m) {
    ObjectNode row = details(m.details());
    row.put("status", m.status().name());
    row.put("attempt", m.attempt());
    row.set("score", scores(m.scores()));
    row.put("duplicate_of", m.duplicateOf());
    row.put("failure_reason", m.failure() == null ? null : m.failure().reason());
    row.put("failure_category", m.failure() == null ? null : m.failure().category().wireName());
    row.put("scoring_fingerprint", m.scoringFingerprint());
    if (m.rescore() == null) {
      row.putNull("rescore");
    } else {
      ObjectNode r = row.putObject("rescore");
      r.put("status", m.rescore().status().name()).put("fingerprint", m.rescore().fingerprint()).put("requested_at", timestamp(m.rescore().requestedAt()));
      putFailure(r, m.rescore().failure());
    }
    // A model being rescored stays COMPLETED; its rescore's attempt is the one evaluating.
    boolean evaluating = m.attemptStatus() == ModelStatus.PRECHECK || m.attemptStatus() == ModelStatus.RUNNING;
    // Worker and progress belong to the current attempt only: a queued or finished model has neither.
    row.put("worker", evaluating ? m.worker() : null);
    if (evaluating && m.progress() != null) {
      row.putObject("progress").put("phase", m.progress().phase()).put("fraction", m.progress().fraction());
    } else {
      row.putNull("progress");
    }
    row.put("submitted_at", timestamp(m.submittedAt()));
    row.put("updated_at", timestamp(m.updatedAt()));
    return row;
  }

  /** A model's results, newest first: the history route and the dashboard's model view. */
  ArrayNode scoreHistory(List<ReadSide.HistoryRow> history) {
    ArrayNode rows = mapper.createArrayNode();
    for (ReadSide.HistoryRow h : history) {
      ObjectNode row = rows.addObject().put("attempt", h.attempt()).put("outcome", h.outcome().name()).put("rescore", h.rescore());
      row.put("scoring_fingerprint", h.scoringFingerprint()).put("source", h.source());
      row.set("score", scores(h.scores()));
      putFailure(row, h.failure());
      row.put("at", timestamp(h.at()));
    }
    return rows;
  }

  /** {@code failure: {reason, category}}, or null. */
  private static void putFailure(ObjectNode node, Failure failure) {
    if (failure == null) {
      node.putNull("failure");
    } else {
      node.putObject("failure").put("reason", failure.reason()).put("category", failure.category().wireName());
    }
  }

  ArrayNode modelRows(List<ModelRow> models) {
    ArrayNode rows = mapper.createArrayNode();
    models.forEach(m -> rows.add(modelRow(m)));
    return rows;
  }

  /**
   * The members of the cluster, each gpu-node's slots with the model each is evaluating (null when idle), and its
   * scoring fingerprint with whether it is the required one ({@code requiredId}, null when none is yet); both null for
   * members that are no gpu-node.
   */
  ArrayNode nodes(List<ClusterView.Node> nodes, List<ModelRow> evaluating, String requiredId) {
    Map<String, ModelRow> byWorker = new HashMap<>();
    evaluating.forEach(m -> { if (m.worker() != null) byWorker.put(m.worker(), m); });
    ArrayNode members = mapper.createArrayNode();
    for (ClusterView.Node node : nodes) {
      ObjectNode member = members.addObject().put("address", node.address()).put("status", node.status()).put("reachable", node.reachable());
      node.roles().forEach(member.putArray("roles")::add);
      if (node.fingerprint() == null) {
        member.putNull("fingerprint");
        member.putNull("matches_required");
      } else {
        member.set("fingerprint", fingerprint(node.fingerprint().id(), node.fingerprint().components()));
        member.put("matches_required", node.fingerprint().id().equals(requiredId));
      }
      ArrayNode slots = member.putArray("slots");
      for (String worker : node.slots()) {
        ObjectNode slot = slots.addObject().put("worker", worker);
        ModelRow model = byWorker.get(worker);
        if (model == null) slot.putNull("model");
        else slot.set("model", modelRow(model));
      }
    }
    return members;
  }

  /** A scoring fingerprint: its id and components (null when only the id is known). */
  ObjectNode fingerprint(String id, Map<String, String> components) {
    ObjectNode node = mapper.createObjectNode().put("id", id);
    if (components == null) node.putNull("components");
    else components.forEach(node.putObject("components")::put);
    return node;
  }

  /** A fingerprint required, since when, and how it was chosen: adopted from a gpu-node, or configured. */
  ObjectNode requirement(ScoringVersion.Requirement requirement) {
    ObjectNode node = fingerprint(requirement.id(), requirement.components());
    node.put("chosen", requirement.node() == null ? "configured" : "adopted");
    node.put("adopted_from", requirement.node());
    node.put("since", timestamp(requirement.since()));
    return node;
  }

  /** Each validator's latest state as it reported it: the dashboard's validators table. */
  ArrayNode validators(List<ReadSide.ValidatorStatus> validators) {
    ArrayNode rows = mapper.createArrayNode();
    for (ReadSide.ValidatorStatus v : validators) {
      ObjectNode row = rows.addObject().put("hotkey", v.hotkey()).put("uid", v.uid()).put("coldkey", v.coldkey());
      row.put("git_commit", v.gitCommit()).put("bittensor_version", v.bittensorVersion()).put("last_block", v.lastBlock());
      row.put("last_report_at", timestamp(v.lastReportAt())).put("reports", v.reports());
    }
    return rows;
  }

  /** The moving average after each folded step, oldest first: the weights chart. */
  ArrayNode weightsHistory(List<WeightsLedger.WeightsFolded> folds) {
    ArrayNode steps = mapper.createArrayNode();
    for (WeightsLedger.WeightsFolded fold : folds) {
      ObjectNode step = steps.addObject().put("block", fold.currentBlock()).put("at", timestamp(fold.at()));
      ObjectNode average = step.putObject("average");
      new TreeMap<>(fold.average()).forEach((uid, weight) -> average.put(uid.toString(), weight));
      ObjectNode stepWeights = step.putObject("step");
      new TreeMap<>(fold.step()).forEach((uid, weight) -> stepWeights.put(uid.toString(), weight));
    }
    return steps;
  }

  private static String timestamp(Instant instant) {
    return instant == null ? null : instant.toString();
  }
}
