package io.sn11.coordinator.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sn11.coordinator.CoordinatorSettings;
import io.sn11.coordinator.weights.WeightsService;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * The weights routes' requests, checked and answered: anyone reads the last folded state or previews a
 * block (neither changes anything), an admin folds a block, and anyone computes a step over given entries.
 */
final class WeightsRequests {
  /** Configuration of the node, refused as request parameters of a read. */
  private static final List<String> CONFIGURED = List.of("burn_uid", "burn_share");

  private final WeightsService weights;
  private final JsonViews views;
  private final CoordinatorSettings settings;

  WeightsRequests(WeightsService weights, JsonViews views, CoordinatorSettings settings) {
    this.weights = weights;
    this.views = views;
    this.settings = settings;
  }

  /** {@code GET /weights}: the last folded state; with {@code current_block}, a preview of folding that block. */
  CompletionStage<ObjectNode> read(Map<String, String> query) {
    for (String configured : CONFIGURED) {
      if (query.containsKey(configured)) {
        throw ApiException.badField(
            configured, configured + " is configuration (sn11.coordinator.weights." + configured.replace('_', '-') + "), not a request parameter");
      }
    }
    RequestFields fields = RequestFields.ofQuery(query);
    Long currentBlock = fields.optionalLongInRange("current_block", 0, RequestFields.MAX_BLOCK);
    fields.rejectUnknown();
    if (currentBlock == null) return weights.folded().thenApply(views::foldedWeights);
    return weights.preview(currentBlock).thenApply(result -> views.weights(result, true));
  }

  /** {@code POST /admin/weights/fold}: folds {@code current_block} into the moving average, answered once persisted. */
  CompletionStage<ObjectNode> fold(JsonNode body) {
    RequestFields fields = RequestFields.ofJson(body);
    long currentBlock = fields.longInRange("current_block", 0, RequestFields.MAX_BLOCK);
    fields.rejectUnknown();
    return weights.fold(currentBlock).thenApply(result -> views.weights(result, false));
  }

  /** {@code POST /weights/preview}: the step over the given entries, with the burn they name; reads and persists nothing. */
  ObjectNode stepOf(JsonNode body) {
    RequestFields fields = RequestFields.ofJson(body);
    JsonNode entriesNode = body.get("entries");
    if (entriesNode == null || !entriesNode.isArray()) throw ApiException.badField("entries", "entries must be an array");
    if (entriesNode.size() > settings.maxUid() + 1) {
      throw ApiException.badField("entries", "entries may hold at most " + (settings.maxUid() + 1) + " entries");
    }
    List<WeightsService.Entry> entries = new ArrayList<>();
    Set<Integer> seen = new HashSet<>();
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
    CoordinatorSettings.Burn burn = burn(fields);
    fields.rejectUnknown("entries");
    return views.stepOf(weights.stepOf(entries, burn));
  }

  private CoordinatorSettings.Burn burn(RequestFields fields) {
    Long uid = fields.optionalLongInRange("burn_uid", 0, settings.maxUid());
    Double share = fields.optionalFraction("burn_share");
    if (uid == null && share == null) return null;
    if (uid == null) throw ApiException.badField("burn_uid", "burn_uid is required with burn_share");
    if (share == null) throw ApiException.badField("burn_share", "burn_share is required with burn_uid");
    return new CoordinatorSettings.Burn(uid.intValue(), share);
  }

  private static int entryInt(JsonNode entry, String field, String key, long min, long max) {
    JsonNode value = entry.get(key);
    if (value == null || !value.canConvertToExactIntegral() || value.asLong() < min || value.asLong() > max) {
      throw ApiException.badField(field, field + " must be an integer in " + min + ".." + max);
    }
    return (int) Math.min(Integer.MAX_VALUE, value.asLong());
  }
}
