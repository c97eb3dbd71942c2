package io.sn11.cluster.metrics;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.javadsl.ManagementRouteProvider;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;

/** {@code GET /metrics} on the management port: the node's metrics in the Prometheus text format. */
public final class MetricsRoutes extends AllDirectives implements ManagementRouteProvider {
  private static final ContentType.WithCharset TEXT_FORMAT = MediaTypes.TEXT_PLAIN.toContentType(HttpCharsets.UTF_8);

  private final Sn11Metrics metrics;

  /** Made by Pekko Management from {@code pekko.management.http.routes}. */
  public MetricsRoutes(ExtendedActorSystem system) {
    this.metrics = Sn11Metrics.get(Adapter.toTyped(system));
  }

  @Override
  public Route routes(ManagementRouteProviderSettings settings) {
    return path("metrics", () -> get(() -> complete(HttpEntities.create(TEXT_FORMAT, scrape()))));
  }

  private byte[] scrape() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      new PrometheusTextFormatWriter(false).write(out, metrics.registry().scrape());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
