package io.sn11.coordinator.http;

import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;

/** A request that cannot be served, with the HTTP status and the JSON body that say why. */
public final class ApiException extends RuntimeException {
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
}
