package io.sn11.coordinator.http;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.MediaType;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.scaladsl.model.EntityStreamException;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.apache.pekko.stream.Materializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Request bodies: JSON sent as application/json (400 naming Content-Type otherwise: the rule that
 * every malformed request is a 400 naming what is wrong) of at most the route's limit (413 above), read strictly: a key given twice or anything after the JSON value is a 400 rather than a guess (the
 * last key winning, the rest ignored). Its own reader: the API's mapper also reads what this node wrote
 * (stored verdicts) and stays as it is.
 */
final class JsonBodies {
  private static final Logger log = LoggerFactory.getLogger(JsonBodies.class);

  private final ObjectReader reader;
  private final Duration readTimeout;
  private final Materializer materializer;

  JsonBodies(ObjectMapper mapper, Duration readTimeout, Materializer materializer) {
    this.reader = mapper.reader().with(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    this.readTimeout = readTimeout;
    this.materializer = materializer;
  }

  /** The body, read and parsed; a refusal throws (or fails the stage with) an {@link ApiException} or what {@link #refusal} maps. */
  CompletionStage<JsonNode> read(HttpEntity entity, long maxBytes) {
    // No body at all (as Python's requests sends json=None): nothing to parse, so no media type to check;
    // each route refuses what it misses, naming the field.
    if (entity.isKnownEmpty()) return CompletableFuture.completedFuture(MissingNode.getInstance());
    MediaType mediaType = entity.getContentType().mediaType();
    if (!MediaTypes.APPLICATION_JSON.equals(mediaType)) {
      throw ApiException.badField("Content-Type", "the request body must be sent as application/json, was " + mediaType);
    }
    if (entity.getContentLengthOption().orElse(0L) > maxBytes) throw tooLarge(maxBytes);
    return entity.withSizeLimit(maxBytes).toStrict(readTimeout.toMillis(), materializer).thenApply(strict -> parse(strict.getData().toArray()));
  }

  /** The refusal a failure while reading a body stands for, or null when it is no such failure. */
  ApiException refusal(Throwable failure) {
    if (failure instanceof EntityStreamSizeException tooLong) return tooLarge(tooLong.limit());
    if (failure instanceof EntityStreamException unreadable) {
      // A malformed or cut-off body (chunk framing): the client's fault, one line and no stack trace.
      log.info("refused a request whose body could not be read: {}", unreadable.info().summary());
      return ApiException.badField(null, "the request body could not be read: " + unreadable.info().summary());
    }
    return null;
  }

  private static ApiException tooLarge(long maxBytes) {
    return new ApiException(StatusCodes.PAYLOAD_TOO_LARGE, null, "the request body exceeds " + maxBytes + " bytes");
  }

  private JsonNode parse(byte[] data) {
    try (JsonParser parser = reader.createParser(data)) {
      JsonNode body;
      try {
        body = reader.readTree(parser);
      } catch (JsonProcessingException e) {
        JsonLocation at = e.getLocation();
        throw ApiException.badField(
            null, "the request body is not valid JSON at line " + at.getLineNr() + ", column " + at.getColumnNr() + ": " + e.getOriginalMessage());
      }
      if (nothingFollows(parser)) return body == null ? MissingNode.getInstance() : body;
      throw ApiException.badField(null, "the request body has data after the JSON value");
    } catch (IOException e) {
      throw new UncheckedIOException("reading a request body from memory", e);
    }
  }

  private static boolean nothingFollows(JsonParser parser) {
    try {
      return parser.nextToken() == null;
    } catch (IOException notJson) {
      return false;
    }
  }
}
