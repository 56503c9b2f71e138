package io.inferencegateway;

import io.inferencegateway.config.GatewayConfig;

/** Mounts the admin API and the console on the ingress router (see the admin package). */
final class ControlPlane {

  private ControlPlane() {}

  static GatewayApp.RouterMount mounter(GatewayConfig config) {
    return (vertx, router, services) -> { };
  }
}
