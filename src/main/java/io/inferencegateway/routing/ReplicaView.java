package io.inferencegateway.routing;

/**
 * A replica as a strategy sees it at the moment of choosing: plain numbers, so strategies are pure functions that
 * unit tests feed directly.
 *
 * @param inFlight requests this gateway has in flight on it
 * @param load the scraped vLLM load, or null if none is fresh
 * @param weight relative capacity (1 when unset)
 * @param inFlightAtScrape requests this gateway had in flight on it when {@code load} was read
 * @param awaitingFirstByte requests of {@code inFlight} whose answer has not started: their prompts are being computed
 */
public record ReplicaView(long id, int inFlight, LoadReport load, int weight, int inFlightAtScrape,
    int awaitingFirstByte) {

  /**
   * What a request still waiting for its first byte adds on top of its place in {@code inFlight} when a new request
   * is placed ({@link #placementScore}): until its prompt is computed it delays the first token of every request that
   * comes after it on that replica (vLLM runs prefills in the order they came, sharing each step with the running
   * decodes), while one more decoding sequence makes every step only a little longer.
   */
  static final double PREFILL_WEIGHT = 1.0;

  public ReplicaView(long id, int inFlight, LoadReport load, int weight, int inFlightAtScrape) {
    this(id, inFlight, load, weight, inFlightAtScrape, 0);
  }

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
      busy += external + waitingNow;
      if (load.kvCacheUsage() > 0.9) {
        busy += (load.kvCacheUsage() - 0.9) * 100;
      }
    }
    return busy / Math.max(1, weight);
  }

  /**
   * The score of a replica as the place for a request that finds no cached prefix anywhere (a new conversation, a
   * rebalanced one): {@link #score} plus the requests still computing their prompts there, weighted by
   * {@link #PREFILL_WEIGHT}, since the new request's first token waits for them.
   */
  public double placementScore() {
    return score() + PREFILL_WEIGHT * awaitingFirstByte / Math.max(1, weight);
  }
}
