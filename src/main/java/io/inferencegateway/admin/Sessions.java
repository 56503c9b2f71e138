package io.inferencegateway.admin;

import io.inferencegateway.store.SecretBox;
import io.inferencegateway.store.SessionStore;
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

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * Console session tokens: HS256 JWTs (vertx-auth-jwt) with an expiry. The signing secret is generated once and kept
 * in {@code gateway_settings} ({@value #SECRET_SETTING}), so sessions survive restarts and are accepted by every
 * gateway instance sharing the database. One {@link Sessions} per ingress event loop; the secret's future is shared.
 *
 * <p>Each token carries a unique id ({@code jti}), its expiry ({@code exp}; a token without one is refused) and a
 * fingerprint of the console password it was issued for ({@value #PASSWORD_CLAIM}: an HMAC of the password under the
 * signing secret, so the token reveals nothing about the password): a changed {@code APP_PASSWORD} invalidates every
 * session issued before. {@code POST /auth/logout} revokes a token by its id ({@code revoked_sessions}).
 */
final class Sessions {

  static final String SECRET_SETTING = "jwt_secret";
  static final String ISSUER = "inference-gateway";
  static final String AUDIENCE = "inference-gateway-admin";
  static final String SCOPE = "admin";
  static final String PASSWORD_CLAIM = "pwd";

  /** A signed token and when it expires. */
  record Issued(String token, long expiresInSeconds, Instant expiresAt) {}

  /** A valid session: its token id and expiry. */
  record Session(String jti, Instant expiresAt) {}

  private final Vertx vertx;
  private final SharedSecret secret;
  private final int ttlSeconds;
  private final Supplier<String> password;
  private final SessionStore revoked;
  private JWTAuth jwt;
  private String fingerprintFor;
  private String fingerprint;

  Sessions(Vertx vertx, SharedSecret secret, long ttlMinutes, Supplier<String> password, SessionStore revoked) {
    this.vertx = vertx;
    this.secret = secret;
    this.ttlSeconds = (int) Math.min(Integer.MAX_VALUE, Math.max(1, ttlMinutes) * 60);
    this.password = password;
    this.revoked = revoked;
  }

  /** Signs a new session token for the current console password. */
  Future<Issued> issue() {
    String pwd = password.get();
    if (pwd == null) {
      return Future.failedFuture(AdminFailure.unauthorized());
    }
    return provider().compose(auth -> secret.get().map(s -> {
      String token = auth.generateToken(new JsonObject().put("scope", SCOPE)
          .put("jti", UUID.randomUUID().toString())
          .put(PASSWORD_CLAIM, fingerprint(s, pwd)), new JWTOptions()
          .setAlgorithm("HS256")
          .setExpiresInSeconds(ttlSeconds)
          .setIssuer(ISSUER)
          .setAudience(List.of(AUDIENCE))
          .setSubject("console"));
      return new Issued(token, ttlSeconds, Instant.now().plusSeconds(ttlSeconds));
    }));
  }

  /**
   * Succeeds if the token is a valid, unexpired, unrevoked session token of this gateway (signature, issuer, audience,
   * scope, id, expiry, the current console password); fails with 401 if not, or with the storage error if the secret
   * or the revocations could not be read.
   */
  Future<Void> verify(String token) {
    return check(token).mapEmpty();
  }

  /** As {@link #verify}, and tells when the token expires (its {@code exp} claim). */
  Future<Instant> expiry(String token) {
    return check(token).map(Session::expiresAt);
  }

  /** As {@link #verify}, with the session's id and expiry. */
  Future<Session> check(String token) {
    String pwd = password.get();
    if (pwd == null) {
      return Future.failedFuture(AdminFailure.unauthorized()); // console login is off: so are its sessions
    }
    return provider().compose(auth -> authenticate(auth, token).transform(ar -> ar.succeeded()
        ? Future.succeededFuture(claims(ar.result()))
        : Future.<JsonObject>failedFuture(AdminFailure.unauthorized())))
        .compose(claims -> secret.get().compose(s -> {
      Long exp = claims.getValue("exp") instanceof Number n ? n.longValue() : null;
      String jti = claims.getString("jti");
      boolean valid = SCOPE.equals(claims.getString("scope")) && exp != null && jti != null && !jti.isEmpty()
          && fingerprint(s, pwd).equals(claims.getString(PASSWORD_CLAIM));
      if (!valid) {
        return Future.failedFuture(AdminFailure.unauthorized());
      }
      return revoked.isRevoked(jti).compose(isRevoked -> isRevoked
          ? Future.failedFuture(AdminFailure.unauthorized())
          : Future.succeededFuture(new Session(jti, Instant.ofEpochSecond(exp))));
    }));
  }

  /**
   * Every claim of the token: vertx-auth-jwt keeps the registered ones ({@code exp}, {@code jti}, ...) out of the
   * principal, in the {@code accessToken} attribute.
   */
  private static JsonObject claims(User user) {
    JsonObject all = user.attributes() == null ? null : user.attributes().getJsonObject("accessToken");
    return all != null ? all : user.principal();
  }

  /** Revokes the session for good (until it would have expired anyway). */
  Future<Void> revoke(Session session, Instant now) {
    return revoked.revoke(session.jti(), session.expiresAt(), now);
  }

  /** The password's fingerprint under the signing secret (cached for the last password seen). */
  private synchronized String fingerprint(String signingSecret, String pwd) {
    if (!pwd.equals(fingerprintFor)) {
      fingerprint = passwordFingerprint(signingSecret, pwd);
      fingerprintFor = pwd;
    }
    return fingerprint;
  }

  /** The {@value #PASSWORD_CLAIM} claim for a console password: HMAC-SHA256 under the signing secret, shortened. */
  static String passwordFingerprint(String signingSecret, String pwd) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(signingSecret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      byte[] h = mac.doFinal(("console-password:" + pwd).getBytes(StandardCharsets.UTF_8));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(h).substring(0, 22);
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Future<User> authenticate(JWTAuth auth, String token) {
    try {
      return auth.authenticate(new TokenCredentials(token));
    } catch (RuntimeException e) { // a malformed token may throw instead of failing the future
      return Future.failedFuture(AdminFailure.unauthorized());
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

  /**
   * The signing secret, read (or created) once per gateway process and retried if the database was unavailable.
   * It is stored sealed with the secrets key ({@link SecretBox}), so a copy of the database or of a backup cannot
   * forge sessions; a secret stored in clear by an earlier version, or sealed with the previous key, is re-sealed.
   */
  static final class SharedSecret {
    private static final Logger log = LoggerFactory.getLogger(SharedSecret.class);
    private final SettingsStore settings;
    private final SecretBox box;
    private final AtomicReference<Future<String>> value = new AtomicReference<>();

    SharedSecret(SettingsStore settings, SecretBox box) {
      this.settings = settings;
      this.box = box;
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
      return settings.putIfAbsent(SECRET_SETTING, box == null ? fresh : box.seal(fresh))
          .compose(v -> settings.get(SECRET_SETTING))
          .map(stored -> stored.orElseThrow(() -> new IllegalStateException("jwt_secret was not stored")))
          .compose(this::opened);
    }

    private Future<String> opened(String stored) {
      if (box == null) {
        return Future.succeededFuture(stored);
      }
      boolean sealed = stored.startsWith("v1:");
      String secret;
      try {
        secret = sealed ? box.open(stored) : stored;
      } catch (IllegalStateException e) {
        log.error("The console session secret cannot be decrypted ({}); set SECRETS_KEY (and SECRETS_KEY_PREVIOUS"
            + " after a rotation) to the keys it was stored with", e.getMessage());
        return Future.failedFuture(e);
      }
      if (sealed && box.sealedWithCurrentKey(stored)) {
        return Future.succeededFuture(secret);
      }
      return settings.put(SECRET_SETTING, box.seal(secret)).map(secret); // in clear before, or under the old key
    }
  }
}
