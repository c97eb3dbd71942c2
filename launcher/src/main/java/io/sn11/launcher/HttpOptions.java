package io.sn11.launcher;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/** Options of the commands that serve the HTTP API (mixed in with @Mixin). */
final class HttpOptions {
  @Option(names = "--http-host", defaultValue = "${env:SN11_HTTP_HOST:-127.0.0.1}", description = "Address the HTTP API listens on (default: ${DEFAULT-VALUE}; env SN11_HTTP_HOST).")
  String httpHost;

  @Option(names = "--http-port", defaultValue = "${env:SN11_HTTP_PORT:-8080}", description = "Port of the HTTP API; 0 picks a free one (default: ${DEFAULT-VALUE}; env SN11_HTTP_PORT).")
  int httpPort;

  /** The HTTP settings and the admin token ($SN11_ADMIN_TOKEN, else one kept in the data folder). */
  void putInto(Map<String, Object> options, Path dataDir) throws java.io.IOException {
    options.put("sn11.coordinator.http.host", httpHost);
    options.put("sn11.coordinator.http.port", httpPort);
    options.put("sn11.coordinator.admin-tokens", List.of(AdminToken.forServer(dataDir)));
  }
}
