package io.sn11.coordinator.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;

/** A request that cannot be served, with the HTTP status and the JSON body that say why. */
public final class ApiException extends RuntimeException {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final StatusCode status;
  private final String field;

  public ApiException(StatusCode status, String field, String detail) {
    super(detail, null, false, false);
    this.status = status;
    this.field = field;
  }

  public static ApiException badField(String field, String detail) {
    return new ApiException(StatusCodes.BAD_REQUEST, field, detail);
  }

  public static ApiException notFound(String detail) {
    return new ApiException(StatusCodes.NOT_FOUND, null, detail);
  }

  public StatusCode status() {
    return status;
  }

  /** The request field at fault, or null when the whole request is. */
  public String field() {
    return field;
  }

  /** The answer: the status and {@code {"detail": ..., "field": ...}}, without {@code field} when the whole request is at fault. */
  public HttpResponse response() {
    ObjectNode body = JSON.createObjectNode().put("detail", getMessage());
    if (field != null) body.put("field", field);
    return HttpResponse.create().withStatus(status).withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, body.toString()));
  }
}
