package io.inferencegateway.metrics;

import io.inferencegateway.auth.AdminAuth;
import io.inferencegateway.auth.ApiKeys;
import io.inferencegateway.config.GatewayConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.micrometer.PrometheusScrapingHandler;

/**
 * Who may read the gateway's Prometheus {@code /metrics}: on the main port, a bearer token that is
 * {@code METRICS_TOKEN} or the admin key; on a separate {@code METRICS_PORT} (bound to {@code security.metricsHost},
 * 127.0.0.1 by default), anyone who reaches it, or only {@code METRICS_TOKEN} holders when it is set. Wrong or missing
 * token: 401 with {@code WWW-Authenticate: Bearer}.
 */
public final class MetricsAccess {

  private MetricsAccess() {}

  /** The handler of {@code /metrics} on the main port (null when it is served on its own port instead). */
  public static Handler<RoutingContext> onMainPort(GatewayConfig.Security security, AdminAuth adminAuth,
                                                   PrometheusMeterRegistry registry) {
    if (security.metricsPort() > 0) {
      return null;
    }
    return guarded(security.metricsToken(), adminAuth, registry);
  }

  /** The handler of {@code /metrics} on its own port. */
  public static Handler<RoutingContext> onOwnPort(GatewayConfig.Security security, PrometheusMeterRegistry registry) {
    if (security.metricsToken() == null) {
      return PrometheusScrapingHandler.create(registry);
    }
    return guarded(security.metricsToken(), null, registry);
  }

  private static Handler<RoutingContext> guarded(String token, AdminAuth adminAuth, PrometheusMeterRegistry registry) {
    String tokenHash = token == null ? null : ApiKeys.sha256Hex(token);
    Handler<RoutingContext> scrape = PrometheusScrapingHandler.create(registry);
    return ctx -> {
      String given = ApiKeys.bearerToken(ctx.request().getHeader(HttpHeaders.AUTHORIZATION));
      boolean ok = given != null && ((tokenHash != null && ApiKeys.constantTimeEquals(ApiKeys.sha256Hex(given), tokenHash))
          || (adminAuth != null && adminAuth.isAdminKey(given)));
      if (ok) {
        scrape.handle(ctx);
        return;
      }
      ctx.response().setStatusCode(401).putHeader("WWW-Authenticate", "Bearer")
          .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
          .end(new JsonObject().put("error", "/metrics needs Authorization: Bearer with METRICS_TOKEN or the admin key.")
              .encode());
    };
  }
}
