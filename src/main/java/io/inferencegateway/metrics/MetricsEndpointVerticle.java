package io.inferencegateway.metrics;

import io.inferencegateway.config.GatewayConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;

/** Serves {@code /metrics} alone on {@code security.metricsPort} at {@code security.metricsHost} (see {@link MetricsAccess}). */
public final class MetricsEndpointVerticle extends VerticleBase {

  private final GatewayConfig.Security security;
  private final PrometheusMeterRegistry registry;
  private HttpServer server;

  public MetricsEndpointVerticle(GatewayConfig.Security security, PrometheusMeterRegistry registry) {
    this.security = security;
    this.registry = registry;
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    router.get("/metrics").handler(MetricsAccess.onOwnPort(security, registry));
    server = vertx.createHttpServer(new HttpServerOptions().setHost(security.metricsHost())
        .setPort(security.metricsPort()).setIdleTimeout(60));
    return server.requestHandler(router).listen();
  }

  /** The port actually bound. */
  public int actualPort() {
    return server.actualPort();
  }

  @Override
  public Future<?> stop() {
    return server == null ? Future.succeededFuture() : server.close();
  }
}
