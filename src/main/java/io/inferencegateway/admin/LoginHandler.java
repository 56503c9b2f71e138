package io.inferencegateway.admin;

import io.inferencegateway.auth.ApiKeys;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /auth/login {"password": ...}}: the console password (APP_PASSWORD) buys a session token.
 * Wrong password: 401. Repeated failures from one address: 429 with Retry-After, growing exponentially (see
 * {@link LoginThrottle}). No console password configured: 503, console login is disabled (the admin key still works).
 * The answer is never cached ({@code Cache-Control: no-store}).
 */
final class LoginHandler {

  private static final Logger log = LoggerFactory.getLogger(LoginHandler.class);
  static final String DISABLED = "Console login is disabled: no console password is configured (set APP_PASSWORD)."
      + " The admin API key still works as a bearer token.";

  private final AdminContext admin;

  LoginHandler(AdminContext admin) {
    this.admin = admin;
  }

  Future<?> login(RoutingContext ctx) {
    String address = address(ctx);
    long waitMs = admin.throttle.retryAfterMs(address);
    if (waitMs > 0) {
      throw tooMany(waitMs);
    }
    String expected = admin.config.appPassword();
    if (expected == null) {
      throw AdminFailure.error(503, DISABLED);
    }
    FieldErrors errors = new FieldErrors();
    JsonInput in = AdminContext.body(ctx, errors, "password");
    String password = in.string("password", true, false);
    in.rejectUnknown();
    errors.throwIfAny();
    // hashing both sides first makes the comparison's time independent of the password's length too
    if (!ApiKeys.constantTimeEquals(ApiKeys.sha256Hex(password), ApiKeys.sha256Hex(expected))) {
      long delayMs = admin.throttle.failure(address);
      if (delayMs > 0) {
        log.warn("Failed console login from {}; further attempts from it wait {} s", address, (delayMs + 999) / 1000);
      }
      throw AdminFailure.error(401, "Invalid password.");
    }
    admin.throttle.success(address);
    ctx.response().putHeader(HttpHeaders.CACHE_CONTROL, "no-store");
    return admin.sessions.issue().compose(issued -> AdminContext.json(ctx, 200, new JsonObject()
        .put("token", issued.token())
        .put("token_type", "Bearer")
        .put("expires_in", issued.expiresInSeconds())
        .put("expires_at", issued.expiresAt().toString())));
  }

  /**
   * {@code POST /auth/logout} with a session token: the token is revoked at once (on every gateway instance sharing
   * the database) → 204. With the admin key there is nothing to revoke: 204 too.
   */
  Future<?> logout(RoutingContext ctx) {
    if (ctx.get("admin.principal") != AdminContext.Principal.SESSION) {
      return AdminContext.noContent(ctx);
    }
    String token = ApiKeys.bearerToken(ctx.request().getHeader(HttpHeaders.AUTHORIZATION));
    return admin.sessions.check(token)
        .compose(session -> admin.sessions.revoke(session, admin.services.clock().instant()))
        .compose(v -> AdminContext.noContent(ctx));
  }

  static AdminFailure tooMany(long waitMs) {
    long seconds = Math.max(1, (waitMs + 999) / 1000);
    return AdminFailure.tooManyRequests("Too many failed login attempts from this address; retry in " + seconds + " s.",
        seconds);
  }

  private static String address(RoutingContext ctx) {
    SocketAddress remote = ctx.request().remoteAddress();
    return remote == null || remote.host() == null ? "unknown" : remote.host();
  }
}
