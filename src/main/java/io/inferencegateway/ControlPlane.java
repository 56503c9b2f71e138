package io.inferencegateway;

import io.inferencegateway.admin.AdminApi;
import io.inferencegateway.config.GatewayConfig;

/** Mounts the control plane on the ingress router: the admin API (see the admin package); the console comes later. */
public final class ControlPlane {

  private ControlPlane() {}

  /** Called once per gateway process; the mount it returns runs once per ingress router (event loop). */
  public static GatewayApp.RouterMount mounter(GatewayConfig config) {
    return AdminApi.mounter(config);
  }
}
