package io.inferencegateway.ingress;

import io.inferencegateway.GatewayServices;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;

/** Adds routes (admin API, console) to each ingress router, after the OpenAI routes. */
@FunctionalInterface
public interface RouterMount {

  void mount(Vertx vertx, Router router, GatewayServices services);

  /** Called once, after every verticle is up: starts what the control plane runs once per process. */
  default Future<?> started(Vertx vertx, GatewayServices services) {
    return Future.succeededFuture();
  }

  RouterMount NONE = (vertx, router, services) -> { };
}
