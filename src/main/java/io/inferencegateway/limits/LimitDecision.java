package io.inferencegateway.limits;

/**
 * Whether a request may go ahead under its key's limits.
 *
 * @param limit what ran out when refused: {@code requests} (per minute) or {@code tokens} (per minute)
 * @param retryAfterMs how long until the refused request would be allowed
 */
public record LimitDecision(boolean allowed, String limit, long retryAfterMs, boolean unavailable) {

  public static final LimitDecision ALLOWED = new LimitDecision(true, null, 0, false);
  /** The shared limiter is down and the gateway is configured to fail closed. */
  public static final LimitDecision UNAVAILABLE = new LimitDecision(false, null, 1000, true);

  public static LimitDecision refused(String limit, long retryAfterMs) {
    return new LimitDecision(false, limit, Math.max(retryAfterMs, 1), false);
  }
}
