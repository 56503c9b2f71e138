package io.inferencegateway.routing;

/**
 * The router's answer for one attempt: a replica (its breaker and rate limit already claimed), or why there is none.
 *
 * @param allBusy true when healthy replicas exist but every one is at its requests-per-minute limit
 * @param retryAfterMs with allBusy: when the first of them frees up
 */
public record Choice(ReplicaState replica, boolean allBusy, long retryAfterMs) {

  static final Choice NONE = new Choice(null, false, 0);

  static Choice of(ReplicaState replica) {
    return new Choice(replica, false, 0);
  }

  static Choice busy(long retryAfterMs) {
    return new Choice(null, true, retryAfterMs);
  }
}
