package io.sn11.coordinator.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sn11.coordinator.readside.ReadSide;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;

/**
 * What the subnet's validator reports about itself, read as its code sends it. Telemetry ({@code POST
 * /telemetry_report}): its metadata in the headers {@code Hotkey}, {@code UID}, {@code Coldkey}, {@code
 * Git-Commit} and {@code Bittensor-Version}, and a free-form JSON object, which may hold {@code current_block}.
 * Events ({@code POST /event_report}): the same metadata as body fields {@code hotkey}, {@code uid}, {@code
 * coldkey}, {@code commit}, {@code btversion}, beside a free-form {@code payload} and the {@code signature} of
 * its hotkey. Anyone can send them: they are self-reported, and the signature is stored, not verified.
 */
final class ValidatorReports {
  static final String TELEMETRY = "telemetry";
  static final String EVENT = "event";

  /** A git commit (the validator sends its first 8 hex digits, or "unknown") or a package version. */
  private static final Pattern VERSION = Pattern.compile("[A-Za-z0-9._+-]{1,64}");
  private static final String VERSION_RULE = "1-64 letters, digits, '.', '_', '+' or '-'";
  private static final List<String> TELEMETRY_HEADERS = List.of("Hotkey", "UID", "Coldkey", "Git-Commit", "Bittensor-Version");

  private final ObjectMapper mapper;
  private final int maxUid;

  ValidatorReports(ObjectMapper mapper, int maxUid) {
    this.mapper = mapper;
    this.maxUid = maxUid;
  }

  /** A telemetry report: refused naming the header or field at fault; other payload fields are kept as sent. */
  ReadSide.ValidatorReport telemetry(HttpRequest request, JsonNode payload, Instant at) {
    Map<String, String> values = new HashMap<>();
    for (String name : TELEMETRY_HEADERS) request.getHeader(name).map(HttpHeader::value).ifPresent(value -> values.put(name, value));
    RequestFields headers = RequestFields.ofQuery(values);
    String hotkey = headers.hotkey("Hotkey");
    Long uid = headers.optionalLongInRange("UID", 0, maxUid);
    String coldkey = headers.optionalSs58("Coldkey");
    String commit = headers.optionalMatching("Git-Commit", VERSION, VERSION_RULE);
    String version = headers.optionalMatching("Bittensor-Version", VERSION, VERSION_RULE);
    // The older validator posts telemetry without a payload (json=None: no body): a report of its headers alone.
    if (payload.isMissingNode()) payload = JsonNodeFactory.instance.objectNode();
    if (!payload.isObject()) throw ApiException.badField(null, "the telemetry payload must be a JSON object");
    Long block = RequestFields.ofJson(payload).optionalLongInRange("current_block", 0, RequestFields.MAX_BLOCK);
    return new ReadSide.ValidatorReport(at, TELEMETRY, hotkey, toInteger(uid), coldkey, commit, version, block, text(payload));
  }

  /** An event report: the fields its validator always sends, checked in the order it declares them. */
  ReadSide.ValidatorReport event(JsonNode body, Instant at) {
    RequestFields fields = RequestFields.ofJson(body);
    String commit = fields.matching("commit", VERSION, VERSION_RULE);
    String version = fields.matching("btversion", VERSION, VERSION_RULE);
    long uid = fields.longInRange("uid", 0, maxUid);
    String hotkey = fields.hotkey("hotkey");
    String coldkey = fields.optionalSs58("coldkey");
    for (String object : List.of("payload", "signature")) {
      if (!body.path(object).isObject()) throw ApiException.badField(object, object + " must be a JSON object");
    }
    fields.rejectUnknown("payload", "signature");
    return new ReadSide.ValidatorReport(at, EVENT, hotkey, toInteger(uid), coldkey, commit, version, null, text(body));
  }

  private static Integer toInteger(Long uid) {
    return uid == null ? null : uid.intValue();
  }

  private String text(JsonNode json) {
    try {
      return mapper.writeValueAsString(json);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a JSON tree always serialises", e);
    }
  }
}
