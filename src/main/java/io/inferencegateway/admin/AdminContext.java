package io.inferencegateway.admin;

import io.inferencegateway.GatewayServices;
import io.inferencegateway.auth.ApiKeys;
import io.inferencegateway.config.Addresses;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.store.ApiKeyRow;
import io.inferencegateway.store.TableStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * What the admin handlers of one ingress event loop share: the gateway's services, the session signer, and the few
 * helpers every handler needs (answering JSON, announcing changes). Changes are applied to the in-memory state
 * (key cache, model registry) before the answer goes out, then published on the event bus for other listeners.
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
    return new JsonInput(JsonInput.parseObject(ctx.body().buffer()), errors, fields);
  }

  static Future<Void> json(RoutingContext ctx, int status, Object body) {
    String text = body instanceof JsonObject o ? o.encode()
        : body instanceof io.vertx.core.json.JsonArray a ? a.encode() : io.vertx.core.json.Json.encode(body);
    return ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(text);
  }

  static Future<Void> noContent(RoutingContext ctx) {
    return ctx.response().setStatusCode(204).end();
  }

  /** Reloads the model registry (the ingress routes by it at once), then announces the change. */
  Future<Void> modelsChanged(long modelId) {
    return services.registry().reload()
        .onSuccess(v -> vertx.eventBus().publish(Addresses.MODELS_CHANGED, new JsonObject().put("model_id", modelId)));
  }

  /** Puts the key's new state in the key cache (the ingress checks keys there), then announces the change. */
  void keyChanged(ApiKeyRow row) {
    services.keyCache().upsert(row);
    vertx.eventBus().publish(Addresses.KEYS_CHANGED, new JsonObject().put("id", row.id()));
  }

  void keyRemoved(long id) {
    services.keyCache().remove(id);
    vertx.eventBus().publish(Addresses.KEYS_CHANGED, new JsonObject().put("id", id));
  }

  void provisioning(JsonObject event) {
    vertx.eventBus().publish(Addresses.REPLICAS_PROVISIONING, event);
  }
}
