package io.inferencegateway.routing;

/**
 * The router's answer for one attempt: a lease on a replica (its breaker and rate limit already claimed), or why there
 * is none.
 *
 * @param allBusy true when healthy replicas exist but every one is at its requests-per-minute limit
 * @param retryAfterMs with allBusy: when the first of them frees up
 * @param reason why this replica: {@link #AFFINITY} (the replica that served the request's affinity key before),
 *     {@link #NEW_KEY} (an affinity key seen for the first time: the least loaded replica), {@link #REBALANCED} (the
 *     key's replica was too busy: the least loaded one), or {@link #STRATEGY} (no affinity: the model's strategy)
 */
public record Choice(ReplicaLease lease, boolean allBusy, long retryAfterMs, String reason) {

  public static final String AFFINITY = "affinity";
  public static final String NEW_KEY = "new-key";
  public static final String REBALANCED = "rebalanced";
  public static final String STRATEGY = "strategy";

  static final Choice NONE = new Choice(null, false, 0, null);

  public Choice(ReplicaLease lease, boolean allBusy, long retryAfterMs) {
    this(lease, allBusy, retryAfterMs, lease == null ? null : STRATEGY);
  }

  static Choice of(ReplicaState replica) {
    return of(replica, STRATEGY);
  }

  static Choice of(ReplicaState replica, String reason) {
    return new Choice(new ReplicaLease(replica), false, 0, reason);
  }

  /** The leased replica, or null. */
  public ReplicaState replica() {
    return lease == null ? null : lease.replica();
  }

  /** Whether the request had an affinity key and went where that key had gone before. */
  public boolean affinityHit() {
    return AFFINITY.equals(reason);
  }

  /** Whether the request had an affinity key but went elsewhere (new key, or its replica was too busy). */
  public boolean affinityMiss() {
    return NEW_KEY.equals(reason) || REBALANCED.equals(reason);
  }

  static Choice busy(long retryAfterMs) {
    return new Choice(null, true, retryAfterMs, null);
  }
}
