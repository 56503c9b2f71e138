package io.inferencegateway.limits;

import io.vertx.core.Future;

/** Per-key requests-per-minute and tokens-per-minute limits. */
public interface RateLimiter {

  /**
   * Takes one request from the key's per-minute allowance and checks it still has tokens left this minute.
   *
   * @param tpm the key's tokens per minute, or 0 for no token limit
   */
  Future<LimitDecision> acquire(long keyId, int rpm, int tpm);

  /** Charges the tokens a finished request used (called after the answer, off the client's critical path). */
  void chargeTokens(long keyId, int tpm, int tokens);

  default Future<Void> close() {
    return Future.succeededFuture();
  }
}
