package io.inferencegateway.routing;

/**
 * A replica as a strategy sees it at the moment of choosing: plain numbers, so strategies are pure functions that
 * unit tests feed directly.
 *
 * @param inFlight requests this gateway has in flight on it
 * @param load the scraped vLLM load, or null if none is fresh
 * @param weight relative capacity (1 when unset)
 */
public record ReplicaView(long id, int inFlight, LoadReport load, int weight) {

  /**
   * The number a load-aware strategy minimises: requests in the replica (the larger of what this gateway sent and what
   * vLLM reports running), queued requests counted double, and a steep penalty once the KV cache is nearly full,
   * divided by the replica's weight.
   */
  public double score() {
    double busy = inFlight;
    if (load != null) {
      busy = Math.max(inFlight, load.running()) + 2 * load.waiting();
      if (load.kvCacheUsage() > 0.9) {
        busy += (load.kvCacheUsage() - 0.9) * 100;
      }
    }
    return busy / Math.max(1, weight);
  }
}
