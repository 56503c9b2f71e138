package io.inferencegateway.routing;

/**
 * One request's hold on a replica, handed out by the {@link ReplicaRouter}: it alone owns what the router claimed for
 * the request (a place in the replica's in-flight count, the breaker's probe slot when half-open, and the replica's
 * per-minute rate token, already spent) and gives the replica its verdict. Used from one event loop.
 *
 * <p>The verdict: {@link #succeeded()} when the replica answered (a 4xx is the request's fault, not the replica's),
 * {@link #failed} when it did not, or nothing, which is neutral (the client left first): then {@link #release()}
 * frees the probe slot without judging the replica. A failure may follow a success (a stream that broke after a good
 * start); a success never follows a verdict. {@link #release()} ends the lease; later calls do nothing.
 */
public final class ReplicaLease {

  private final ReplicaState replica;
  private boolean judged;
  private boolean released;
  private boolean firstByte;
  private boolean streamed;

  ReplicaLease(ReplicaState replica) {
    this.replica = replica;
    replica.requestStarted();
  }

  public ReplicaState replica() {
    return replica;
  }

  /**
   * The first byte of the answer came: the replica has computed the prompt (vLLM streams its first event after the
   * prefill). Until then the request counts as prefilling in the replica's score; later calls do nothing.
   *
   * @return whether this call was the first (the prefill ended now)
   */
  public boolean firstByte() {
    if (!firstByte && !released) {
      firstByteNow();
      return true;
    }
    return false;
  }

  /**
   * The request asks for a stream: until its first byte, the replica counts it among the streams computing their
   * prompts ({@link ReplicaState#streamsComputingPrompts}). Call before any byte came; later calls do nothing.
   */
  public void streamed() {
    if (!streamed && !firstByte && !released) {
      streamed = true;
      replica.streamComputing();
    }
  }

  private void firstByteNow() {
    firstByte = true;
    replica.firstByteCame();
    if (streamed) {
      replica.streamComputed();
    }
  }

  /** The replica answered. */
  public void succeeded() {
    if (!judged && !released) {
      judged = true;
      replica.succeeded();
    }
  }

  /**
   * The replica failed the request.
   *
   * @param severe a connect error or timeout: opens its breaker at once
   */
  public void failed(long nowMs, boolean severe, String reason) {
    if (!released) {
      judged = true;
      replica.failed(nowMs, severe, reason);
    }
  }

  /** This failed attempt goes on to another replica (counted on this one, for its statistics). */
  public void retriedElsewhere() {
    replica.countRetry();
  }

  /** Ends the lease: leaves the in-flight count, and frees the probe slot if no verdict was given. */
  public void release() {
    if (released) {
      return;
    }
    released = true;
    if (!firstByte) {
      firstByteNow();
    }
    replica.requestEnded();
    if (!judged) {
      replica.breaker().release();
    }
  }

  public boolean released() {
    return released;
  }
}
