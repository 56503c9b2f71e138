package io.inferencegateway.admin;

import io.inferencegateway.store.SettingsStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Console session tokens: HS256 JWTs (vertx-auth-jwt) with an expiry. The signing secret is generated once and kept
 * in {@code gateway_settings} ({@value #SECRET_SETTING}), so sessions survive restarts and are accepted by every
 * gateway instance sharing the database. One {@link Sessions} per ingress event loop; the secret's future is shared.
 */
final class Sessions {

  static final String SECRET_SETTING = "jwt_secret";
  static final String ISSUER = "inference-gateway";
  static final String AUDIENCE = "inference-gateway-admin";
  static final String SCOPE = "admin";

  /** A signed token and when it expires. */
  record Issued(String token, long expiresInSeconds, Instant expiresAt) {}

  private final Vertx vertx;
  private final SharedSecret secret;
  private final int ttlSeconds;
  private JWTAuth jwt;

  Sessions(Vertx vertx, SharedSecret secret, long ttlMinutes) {
    this.vertx = vertx;
    this.secret = secret;
    this.ttlSeconds = (int) Math.min(Integer.MAX_VALUE, Math.max(1, ttlMinutes) * 60);
  }

  /** Signs a new session token. */
  Future<Issued> issue() {
    return provider().map(auth -> {
      String token = auth.generateToken(new JsonObject().put("scope", SCOPE), new JWTOptions()
          .setAlgorithm("HS256")
          .setExpiresInSeconds(ttlSeconds)
          .setIssuer(ISSUER)
          .setAudience(List.of(AUDIENCE))
          .setSubject("console"));
      return new Issued(token, ttlSeconds, Instant.now().plusSeconds(ttlSeconds));
    });
  }

  /**
   * Succeeds if the token is a valid, unexpired session token of this gateway (signature, issuer, audience, scope);
   * fails with 401 if not, or with the storage error if the secret could not be read.
   */
  Future<Void> verify(String token) {
    return provider().compose(auth -> authenticate(auth, token).transform(ar ->
        ar.succeeded() && SCOPE.equals(ar.result().principal().getString("scope"))
            ? Future.<Void>succeededFuture() : Future.<Void>failedFuture(AdminFailure.unauthorized())));
  }

  /** As {@link #verify}, and tells when the token expires (its {@code exp} claim). */
  Future<Instant> expiry(String token) {
    return provider().compose(auth -> authenticate(auth, token).transform(ar -> {
      if (ar.failed() || !SCOPE.equals(ar.result().principal().getString("scope"))) {
        return Future.<Instant>failedFuture(AdminFailure.unauthorized());
      }
      Long exp = ar.result().principal().getLong("exp");
      return Future.succeededFuture(exp == null ? Instant.MAX : Instant.ofEpochSecond(exp));
    }));
  }

  private static Future<User> authenticate(JWTAuth auth, String token) {
    try {
      return auth.authenticate(new TokenCredentials(token));
    } catch (RuntimeException e) { // a malformed token may throw instead of failing the future
      return Future.failedFuture(e);
    }
  }

  /** Whether a bearer token has the shape of a JWT (three base64url parts), as opposed to an API key. */
  static boolean looksLikeJwt(String token) {
    int first = token.indexOf('.');
    return first > 0 && token.indexOf('.', first + 1) > first + 1 && token.chars().filter(c -> c == '.').count() == 2;
  }

  private Future<JWTAuth> provider() {
    if (jwt != null) {
      return Future.succeededFuture(jwt);
    }
    return secret.get().map(s -> {
      if (jwt == null) {
        jwt = JWTAuth.create(vertx, new JWTAuthOptions()
            .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(s))
            .setJWTOptions(new JWTOptions().setIssuer(ISSUER).setAudience(List.of(AUDIENCE))));
      }
      return jwt;
    });
  }

  /** The signing secret, read (or created) once per gateway process and retried if the database was unavailable. */
  static final class SharedSecret {
    private final SettingsStore settings;
    private final AtomicReference<Future<String>> value = new AtomicReference<>();

    SharedSecret(SettingsStore settings) {
      this.settings = settings;
    }

    Future<String> get() {
      Future<String> f = value.get();
      if (f != null && !f.failed()) {
        return f;
      }
      Future<String> loading = load();
      value.set(loading);
      return loading;
    }

    private Future<String> load() {
      byte[] bytes = new byte[32];
      new SecureRandom().nextBytes(bytes);
      String fresh = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
      // putIfAbsent then read back: two instances starting together end up with the same secret
      return settings.putIfAbsent(SECRET_SETTING, fresh)
          .compose(v -> settings.get(SECRET_SETTING))
          .map(stored -> stored.orElseThrow(() -> new IllegalStateException("jwt_secret was not stored")));
    }
  }
}
