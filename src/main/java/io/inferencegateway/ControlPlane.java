package io.inferencegateway;

import io.inferencegateway.admin.AdminApi;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.console.ConsoleRoutes;
import io.inferencegateway.ingress.RouterMount;
import io.inferencegateway.metrics.MetricsFeedBridge;
import io.inferencegateway.metrics.MetricsTcpBridgeVerticle;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;

/**
 * Mounts the control plane on each ingress router, after the OpenAI routes: the admin API (see the admin package),
 * the metrics feed's SockJS bridge at {@code /eventbus}, then the console at {@code /}; and starts the feed's TCP
 * bridge once per process when {@code bridge.tcpPort} is set. The bridges accept the tokens the admin API accepts.
 */
public final class ControlPlane {

  private ControlPlane() {}

  /** Called once per gateway process; the mount it returns runs once per ingress router (event loop). */
  public static RouterMount mounter(GatewayConfig config) {
    AdminApi admin = AdminApi.create(config);
    return new RouterMount() {
      @Override
      public void mount(Vertx vertx, Router router, GatewayServices services) {
        admin.mount(vertx, router, services);
        MetricsFeedBridge.mountSockJs(vertx, router, token -> admin.tokenExpiry(vertx, services, token));
        ConsoleRoutes.mount(router);
      }

      @Override
      public Future<?> started(Vertx vertx, GatewayServices services) {
        GatewayConfig.Bridge bridge = config.bridge();
        if (bridge.tcpPort() <= 0) {
          return Future.succeededFuture();
        }
        return vertx.deployVerticle(new MetricsTcpBridgeVerticle(bridge.tcpHost(), bridge.tcpPort(),
            token -> admin.tokenExpiry(vertx, services, token)));
      }
    };
  }
}
