package io.inferencegateway.limits;

/**
 * A bucket of {@code capacity} units that refills at {@code capacity} per minute: a per-minute limit that allows a
 * burst of the whole minute's allowance and never more than that. The same arithmetic runs in the Redis script.
 */
public final class TokenBucket {

  private double level;
  private long updatedAtMs;

  public TokenBucket(double capacity, long nowMs) {
    this.level = capacity;
    this.updatedAtMs = nowMs;
  }

  /** Level after refilling up to now; {@code capacity} may differ from before (the key's limit was changed). */
  public synchronized double level(double capacity, long nowMs) {
    refill(capacity, nowMs);
    return level;
  }

  /** Takes {@code amount} if at least {@code needed} is there; returns -1 on success or ms until it would be. */
  public synchronized long tryTake(double capacity, double needed, double amount, long nowMs) {
    refill(capacity, nowMs);
    if (level >= needed) {
      level -= amount;
      return -1;
    }
    return (long) Math.ceil((needed - level) * 60_000d / capacity);
  }

  /** Takes {@code amount} (may go below zero); a negative amount gives back, up to a full bucket. */
  public synchronized void charge(double capacity, double amount, long nowMs) {
    refill(capacity, nowMs);
    level = Math.min(capacity, level - amount);
  }

  private void refill(double capacity, long nowMs) {
    long elapsed = Math.max(0, nowMs - updatedAtMs);
    level = Math.min(capacity, level + elapsed * capacity / 60_000d);
    updatedAtMs = nowMs;
  }
}
