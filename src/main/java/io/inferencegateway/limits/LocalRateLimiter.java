package io.inferencegateway.limits;

import io.vertx.core.Future;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/** Limits held in this process: used without Redis, and as the fallback when Redis fails. */
public final class LocalRateLimiter implements RateLimiter {

  private final ConcurrentHashMap<Long, TokenBucket> requests = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Long, TokenBucket> tokens = new ConcurrentHashMap<>();
  private final LongSupplier clock;

  public LocalRateLimiter() {
    this(System::currentTimeMillis);
  }

  public LocalRateLimiter(LongSupplier clock) {
    this.clock = clock;
  }

  @Override
  public Future<LimitDecision> acquire(long keyId, int rpm, int tpm) {
    return Future.succeededFuture(decide(keyId, rpm, tpm));
  }

  /** The decision itself, without a Future (the resilient limiter calls it directly). */
  public LimitDecision decide(long keyId, int rpm, int tpm) {
    long now = clock.getAsLong();
    if (tpm > 0) {
      // tokens are charged after the fact; a request may start while the bucket is above zero
      TokenBucket t = tokens.computeIfAbsent(keyId, k -> new TokenBucket(tpm, now));
      double level = t.level(tpm, now);
      if (level <= 0) {
        return LimitDecision.refused("tokens", (long) Math.ceil((1 - level) * 60_000d / tpm));
      }
    }
    TokenBucket r = requests.computeIfAbsent(keyId, k -> new TokenBucket(rpm, now));
    long wait = r.tryTake(rpm, 1, 1, now);
    return wait < 0 ? LimitDecision.ALLOWED : LimitDecision.refused("requests", wait);
  }

  @Override
  public void chargeTokens(long keyId, int tpm, int used) {
    if (tpm <= 0 || used == 0) {
      return;
    }
    long now = clock.getAsLong();
    tokens.computeIfAbsent(keyId, k -> new TokenBucket(tpm, now)).charge(tpm, used, now);
  }
}
