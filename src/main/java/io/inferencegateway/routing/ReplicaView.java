package io.inferencegateway.routing;

/**
 * A replica as a strategy sees it at the moment of choosing: plain numbers, so strategies are pure functions that
 * unit tests feed directly.
 *
 * @param inFlight requests this gateway has in flight on it
 * @param load the scraped vLLM load, or null if none is fresh
 * @param weight relative capacity (1 when unset)
 * @param inFlightAtScrape requests this gateway had in flight on it when {@code load} was read
 */
public record ReplicaView(long id, int inFlight, LoadReport load, int weight, int inFlightAtScrape) {

  /** A view whose load report was read when the in-flight count was what it is now. */
  public ReplicaView(long id, int inFlight, LoadReport load, int weight) {
    this(id, inFlight, load, weight, inFlight);
  }

  /**
   * The number a load-aware strategy minimises: the requests this gateway has in flight there, plus those vLLM had
   * from elsewhere (running and waiting beyond this gateway's at the scrape), plus once more the requests estimated to
   * wait in vLLM now (a waiting request counts double), plus a steep penalty once the KV cache is nearly full, over the
   * replica's weight.
   *
   * <p>The report is up to a scrape interval old while the in-flight count is exact, so the waiting queue is carried
   * forward with this gateway's change since the scrape: requests that ended let waiting ones run, new ones join the
   * queue if there was one. A queue that was empty at the scrape is taken as still empty.
   */
  public double score() {
    double busy = inFlight;
    if (load != null) {
      double external = Math.max(0, load.running() + load.waiting() - inFlightAtScrape);
      double waitingNow = load.waiting() > 0 ? Math.max(0, load.waiting() + inFlight - inFlightAtScrape) : 0;
      busy = inFlight + external + waitingNow;
      if (load.kvCacheUsage() > 0.9) {
        busy += (load.kvCacheUsage() - 0.9) * 100;
      }
    }
    return busy / Math.max(1, weight);
  }
}
