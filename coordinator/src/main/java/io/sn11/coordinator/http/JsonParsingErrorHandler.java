package io.sn11.coordinator.http;

import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.ParsingErrorHandler;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.scaladsl.model.ErrorInfo;
import org.apache.pekko.http.scaladsl.model.StatusCode;
import org.apache.pekko.http.scaladsl.settings.ServerSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP parser's own refusals (request line too long: 414, header too large: 431, more headers than
 * allowed or a malformed request: 400) in the API's JSON error shape, with one short log line: they are
 * the client's fault. Named in {@code pekko.http.server.parsing.error-handler}; Pekko makes one per server.
 */
public final class JsonParsingErrorHandler extends ParsingErrorHandler {
  private static final Logger log = LoggerFactory.getLogger(JsonParsingErrorHandler.class);

  @Override
  public HttpResponse handle(StatusCode status, ErrorInfo error, LoggingAdapter pekkoLog, ServerSettings settings) {
    log.info("refused a request the HTTP parser could not read: {} {}", status.intValue(), error.summary());
    return new ApiException(status, null, error.summary()).response();
  }
}
