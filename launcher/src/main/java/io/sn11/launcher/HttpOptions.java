package io.sn11.launcher;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/** Options of the commands that serve the HTTP API (mixed in with @Mixin). */
final class HttpOptions {
  // Unset options leave the configuration files' values (default: 127.0.0.1 and 8080) in place.
  @Option(names = "--http-host", defaultValue = "${env:SN11_HTTP_HOST}", description = "Address the HTTP API listens on (env SN11_HTTP_HOST; else sn11.coordinator.http.host, default: 127.0.0.1).")
  String httpHost;

  @Option(names = "--http-port", defaultValue = "${env:SN11_HTTP_PORT}", description = "Port of the HTTP API; 0 picks a free one (env SN11_HTTP_PORT; else sn11.coordinator.http.port, default: 8080).")
  Integer httpPort;

  /** The HTTP settings and the admin token ($SN11_ADMIN_TOKEN, else one kept in the data folder). */
  void putInto(Map<String, Object> options, Path dataDir) throws java.io.IOException {
    if (httpHost != null) options.put("sn11.coordinator.http.host", httpHost);
    if (httpPort != null) options.put("sn11.coordinator.http.port", httpPort);
    options.put("sn11.coordinator.admin-tokens", List.of(AdminToken.forServer(dataDir)));
  }
}
