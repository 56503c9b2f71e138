package io.inferencegateway.ingress;

import io.inferencegateway.limits.LimitDecision;
import io.inferencegateway.limits.RateLimiter;
import io.inferencegateway.store.ApiKeyRow;
import io.vertx.core.Future;

/**
 * Stage "admit": the key's requests-per-minute and tokens-per-minute limits (429 with Retry-After when spent, 503 when
 * the shared limiter is down and the gateway fails closed), then fair admission ({@link AdmissionGate}: the key's
 * concurrency limit, and a wait in the model's queue while its replicas are saturated). Tokens are charged after the
 * answer, and the admission ticket given back, by {@link Finish}. A key with a tokens-per-minute limit has the
 * request's {@code max_tokens} (or {@code limits.reserveTokens} when absent) taken at once, so that requests that fail
 * or are cut cannot pass the limit; {@link Finish} settles it with the real usage.
 */
final class Admit {

  static final String PRIORITY_HEADER = "x-priority";

  private final RateLimiter limiter;
  private final AdmissionGate gate;
  private final int reserveTokens;

  Admit(RateLimiter limiter) {
    this(limiter, null, 0);
  }

  /** @param gate fair admission, or null for none */
  Admit(RateLimiter limiter, AdmissionGate gate) {
    this(limiter, gate, 0);
  }

  Admit(RateLimiter limiter, int reserveTokens) {
    this(limiter, null, reserveTokens);
  }

  /** @param reserveTokens tokens reserved for a request without {@code max_tokens} (keys with a token limit) */
  Admit(RateLimiter limiter, AdmissionGate gate, int reserveTokens) {
    this.limiter = limiter;
    this.gate = gate;
    this.reserveTokens = reserveTokens;
  }

  Future<Void> apply(ProxyExchange ex) {
    ApiKeyRow key = ex.key;
    Future<LimitDecision> decision = limiter.acquire(key.id(), key.allowedRpm(), tpm(key));
    if (gate == null) {
      if (decision.succeeded()) { // the usual case (credit or in-process limits): no extra future
        return reserve(ex, verdict(decision.result()));
      }
      return decision.compose(d -> reserve(ex, verdict(d)));
    }
    int priority;
    try {
      priority = priority(key, ex.request.getHeader(PRIORITY_HEADER));
    } catch (IngressFailure f) {
      return Future.failedFuture(f);
    }
    Future<Void> limited = decision.succeeded() ? reserve(ex, verdict(decision.result()))
        : decision.compose(d -> reserve(ex, verdict(d)));
    return limited.compose(v -> {
      if (ex.parsed == null) {
        return Future.succeededFuture();
      }
      return gate.admit(ex.parsed.route(), key, priority, ex).map(ticket -> {
        ex.ticket = ticket;
        ex.onClientGone(null);
        if (ex.clientGone()) {
          throw IngressFailure.CLIENT_GONE;
        }
        return null;
      });
    });
  }

  /**
   * The request's priority class: the key's, or a lower one it asks for with {@code X-Priority} (a higher one is cut
   * to the key's: a key cannot raise itself).
   */
  static int priority(ApiKeyRow key, String header) {
    int own = key.priorityOrDefault();
    if (header == null || header.isBlank()) {
      return own;
    }
    int asked;
    try {
      asked = Integer.parseInt(header.trim());
    } catch (NumberFormatException e) {
      asked = -1;
    }
    if (asked < 0 || asked > ApiKeyRow.MAX_PRIORITY) {
      throw IngressFailure.invalid("X-Priority", "X-Priority must be an integer from 0 to " + ApiKeyRow.MAX_PRIORITY
          + " (higher goes first), at most the key's own priority " + own + ".");
    }
    return Math.min(asked, own);
  }

  private Future<Void> reserve(ProxyExchange ex, Future<Void> admitted) {
    int tpm = tpm(ex.key);
    if (admitted.succeeded() && tpm > 0) {
      int tokens = ex.parsed != null && ex.parsed.maxTokens() > 0 ? ex.parsed.maxTokens() : reserveTokens;
      if (tokens > 0) {
        ex.reservedTokens = tokens;
        limiter.chargeTokens(ex.key.id(), tpm, tokens);
      }
    }
    return admitted;
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
