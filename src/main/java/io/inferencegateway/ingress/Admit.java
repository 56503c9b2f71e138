package io.inferencegateway.ingress;

import io.inferencegateway.limits.LimitDecision;
import io.inferencegateway.limits.RateLimiter;
import io.inferencegateway.store.ApiKeyRow;
import io.vertx.core.Future;

/**
 * Stage "admit": the key's requests-per-minute and tokens-per-minute limits (429 with Retry-After when spent, 503 when
 * the shared limiter is down and the gateway fails closed). Tokens are charged after the answer (see {@link Finish}).
 */
final class Admit {

  private final RateLimiter limiter;

  Admit(RateLimiter limiter) {
    this.limiter = limiter;
  }

  Future<Void> apply(ProxyExchange ex) {
    ApiKeyRow key = ex.key;
    Future<LimitDecision> decision = limiter.acquire(key.id(), key.allowedRpm(), tpm(key));
    if (decision.succeeded()) { // the usual case (credit or in-process limits): no extra future
      return verdict(decision.result());
    }
    return decision.compose(Admit::verdict);
  }

  static Future<Void> verdict(LimitDecision decision) {
    if (decision.allowed()) {
      return Future.succeededFuture();
    }
    if (decision.unavailable()) {
      return Future.failedFuture(IngressFailure.limiterUnavailable());
    }
    return Future.failedFuture(IngressFailure.rateLimited(decision.limit(), decision.retryAfterMs()));
  }

  static int tpm(ApiKeyRow key) {
    return key.allowedTpm() == null ? 0 : key.allowedTpm();
  }
}
