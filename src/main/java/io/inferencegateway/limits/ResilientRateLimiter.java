package io.inferencegateway.limits;

import io.micrometer.core.instrument.Counter;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.LongSupplier;


/**
 * Redis limits that survive Redis: when a call fails or is slow, the gateway keeps serving under the configured
 * policy ({@code local}: in-process limits; {@code open}: no limits; {@code closed}: refuse) and stops asking Redis
 * for a second before trying again. Failures are logged once per outage and counted.
 */
public final class ResilientRateLimiter implements RateLimiter {

  private static final Logger log = LoggerFactory.getLogger(ResilientRateLimiter.class);
  private static final long RETRY_AFTER_FAILURE_MS = 1000;

  private final RateLimiter shared;
  private final LocalRateLimiter local;
  private final String onFailure;
  private final Counter failures;
  private volatile long downUntil;
  private volatile boolean down;

  private final LongSupplier clock;

  public ResilientRateLimiter(RateLimiter shared, LocalRateLimiter local, String onFailure, Counter failures) {
    this(shared, local, onFailure, failures, System::currentTimeMillis);
  }

  public ResilientRateLimiter(RateLimiter shared, LocalRateLimiter local, String onFailure, Counter failures,
                              LongSupplier clock) {
    this.clock = clock;
    this.shared = shared;
    this.local = local;
    this.onFailure = onFailure;
    this.failures = failures;
  }

  @Override
  public Future<LimitDecision> acquire(long keyId, int rpm, int tpm) {
    if (down && clock.getAsLong() < downUntil) {
      return Future.succeededFuture(fallback(keyId, rpm, tpm));
    }
    Future<LimitDecision> decided = shared.acquire(keyId, rpm, tpm); // the shared limiter applies the timeout itself
    if (decided.succeeded()) {
      return decided; // spent from credit taken earlier: says nothing about whether Redis is up now
    }
    return decided
        .map(decision -> {
          if (down) {
            down = false;
            log.info("Redis rate limiter is back; limits are shared again");
          }
          return decision;
        })
        .recover(err -> {
          failures.increment();
          downUntil = clock.getAsLong() + RETRY_AFTER_FAILURE_MS;
          if (!down) {
            down = true;
            log.warn("Redis rate limiter failed ({}); serving with '{}' limits until it is back", err.getMessage(),
                onFailure);
          }
          return Future.succeededFuture(fallback(keyId, rpm, tpm));
        });
  }

  private LimitDecision fallback(long keyId, int rpm, int tpm) {
    return switch (onFailure) {
      case "open" -> LimitDecision.ALLOWED;
      case "closed" -> LimitDecision.UNAVAILABLE;
      default -> local.decide(keyId, rpm, tpm);
    };
  }

  @Override
  public void chargeTokens(long keyId, int tpm, int tokens) {
    local.chargeTokens(keyId, tpm, tokens);
    shared.chargeTokens(keyId, tpm, tokens);
  }

  public boolean isDown() {
    return down;
  }

  @Override
  public Future<Void> close() {
    return shared.close();
  }
}
