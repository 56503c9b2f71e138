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

  /**
   * Charges tokens to the key: a reservation at admission, then the difference to what the request really used
   * (negative gives tokens back, never beyond a full bucket). Off the client's critical path.
   */
  void chargeTokens(long keyId, int tpm, int tokens);

  default Future<Void> close() {
    return Future.succeededFuture();
  }
}
