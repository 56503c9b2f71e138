package io.inferencegateway.admin;

import io.inferencegateway.GatewayServices;
import io.inferencegateway.auth.ApiKeys;
import io.inferencegateway.config.Addresses;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.store.TableStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * What the admin handlers of one ingress event loop share: the gateway's services, the session signer, and the few
 * helpers every handler needs (answering JSON, announcing changes). Changes are announced on the event bus; a handler
 * answers once this instance has applied its change (key cache, model registry), so the next request sees it.
 */
final class AdminContext {

  /** Who a request was authenticated as. */
  enum Principal { ADMIN_KEY, SESSION }

  final Vertx vertx;
  final GatewayServices services;
  final GatewayConfig config;
  final Sessions sessions;
  final LoginThrottle throttle;
  final TableStore tables;

  AdminContext(Vertx vertx, GatewayServices services, GatewayConfig config, Sessions sessions, LoginThrottle throttle) {
    this.vertx = vertx;
    this.services = services;
    this.config = config;
    this.sessions = sessions;
    this.throttle = throttle;
    this.tables = new TableStore(services.database());
  }

  /**
   * The admin key (compared in constant time) or a console session token; anything else fails with 401.
   * Fails with another error only when the session secret cannot be read (database down).
   */
  Future<Principal> authenticate(String authorization) {
    String token = ApiKeys.bearerToken(authorization);
    if (token == null) {
      return Future.failedFuture(AdminFailure.unauthorized());
    }
    if (services.adminAuth().isAdminKey(token)) {
      return Future.succeededFuture(Principal.ADMIN_KEY);
    }
    if (!Sessions.looksLikeJwt(token)) {
      return Future.failedFuture(AdminFailure.unauthorized());
    }
    return sessions.verify(token).map(Principal.SESSION);
  }

  /** Parses the body as one JSON object and opens a reader on the given fields. */
  static JsonInput body(RoutingContext ctx, FieldErrors errors, String... fields) {
    io.vertx.core.buffer.Buffer body = ctx.get(AdminApi.BODY);
    return new JsonInput(JsonInput.parseObject(body), errors, fields);
  }

  static Future<Void> json(RoutingContext ctx, int status, Object body) {
    String text = body instanceof JsonObject o ? o.encode()
        : body instanceof io.vertx.core.json.JsonArray a ? a.encode() : io.vertx.core.json.Json.encode(body);
    return ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(text);
  }

  static Future<Void> noContent(RoutingContext ctx) {
    return ctx.response().setStatusCode(204).end();
  }

  /** Announces that a model or its replicas changed; completes once the model registry here has reloaded. */
  Future<Void> modelsChanged(long modelId) {
    return services.announcements().publish(Addresses.MODELS_CHANGED, new JsonObject().put("model_id", modelId));
  }

  /** Announces that a key was created, changed or deleted; completes once the key cache here has it. */
  Future<Void> keyChanged(long id) {
    return services.announcements().publish(Addresses.KEYS_CHANGED, new JsonObject().put("id", id));
  }

  void provisioning(JsonObject event) {
    vertx.eventBus().publish(Addresses.REPLICAS_PROVISIONING, event);
  }
}
