package io.inferencegateway;

import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.console.ConsoleRoutes;
import io.inferencegateway.metrics.MetricsFeedBridge;
import io.inferencegateway.metrics.MetricsTcpBridgeVerticle;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;

import java.time.Instant;

/**
 * Mounts the control plane on each ingress router, after the OpenAI routes: the admin API (see the admin package),
 * the metrics feed's SockJS bridge at {@code /eventbus}, then the console at {@code /}; and starts the feed's TCP
 * bridge once per process when {@code bridge.tcpPort} is set.
 */
final class ControlPlane {

  private ControlPlane() {}

  static GatewayApp.RouterMount mounter(GatewayConfig config) {
    return new GatewayApp.RouterMount() {
      @Override
      public void mount(Vertx vertx, Router router, GatewayServices services) {
        MetricsFeedBridge.mountSockJs(vertx, router, feedTokens(services));
        ConsoleRoutes.mount(router);
      }

      @Override
      public Future<?> started(Vertx vertx, GatewayServices services) {
        GatewayConfig.Bridge bridge = config.bridge();
        if (bridge.tcpPort() <= 0) {
          return Future.succeededFuture();
        }
        return vertx.deployVerticle(new MetricsTcpBridgeVerticle(bridge.tcpHost(), bridge.tcpPort(), feedTokens(services)));
      }
    };
  }

  /** Who may read the metrics feed: the admin key (never expires) or, once the admin API is in, a console session. */
  static MetricsFeedBridge.TokenCheck feedTokens(GatewayServices services) {
    return token -> services.adminAuth().isAdminKey(token)
        ? Future.succeededFuture(Instant.MAX)
        : Future.failedFuture("not a valid token");
  }
}
