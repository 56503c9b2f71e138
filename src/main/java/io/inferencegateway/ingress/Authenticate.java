package io.inferencegateway.ingress;

import io.inferencegateway.auth.ApiKeys;
import io.inferencegateway.auth.KeyCache;
import io.inferencegateway.auth.KeyCheck;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;

/**
 * Stage "authenticate": the API key from {@code Authorization: Bearer ...}, checked against the in-memory key cache
 * before a byte of the body is read (a key the cache does not know costs one rate-limited database look-up).
 */
final class Authenticate {

  private final KeyCache keys;

  Authenticate(KeyCache keys) {
    this.keys = keys;
  }

  Future<Void> apply(ProxyExchange ex) {
    Future<KeyCheck> check = keys.check(ApiKeys.bearerToken(ex.request.getHeader(HttpHeaders.AUTHORIZATION)));
    if (check.succeeded()) { // a key the cache knows: no further future
      return accept(ex, check.result());
    }
    return check.compose(c -> accept(ex, c));
  }

  private static Future<Void> accept(ProxyExchange ex, KeyCheck check) {
    if (!check.valid()) {
      return Future.failedFuture(refused(check));
    }
    ex.key = check.key();
    return Future.succeededFuture();
  }

  /** The 401 of a key check that failed, in OpenAI's shape (also for {@code GET /v1/models}). */
  static IngressFailure refused(KeyCheck check) {
    return IngressFailure.unauthorized(check.refusal());
  }
}
