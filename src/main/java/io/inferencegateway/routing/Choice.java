package io.inferencegateway.routing;

/**
 * The router's answer for one attempt: a lease on a replica (its breaker and rate limit already claimed), or why there
 * is none.
 *
 * @param allBusy true when healthy replicas exist but every one is at its requests-per-minute limit
 * @param retryAfterMs with allBusy: when the first of them frees up
 */
public record Choice(ReplicaLease lease, boolean allBusy, long retryAfterMs) {

  static final Choice NONE = new Choice(null, false, 0);

  static Choice of(ReplicaState replica) {
    return new Choice(new ReplicaLease(replica), false, 0);
  }

  /** The leased replica, or null. */
  public ReplicaState replica() {
    return lease == null ? null : lease.replica();
  }

  static Choice busy(long retryAfterMs) {
    return new Choice(null, true, retryAfterMs);
  }
}
