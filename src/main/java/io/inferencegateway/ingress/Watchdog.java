package io.inferencegateway.ingress;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;

/**
 * The timers of the requests of one event loop that are talking to a replica: a request over its total time, whose
 * replica sent no answer within the first-byte timeout, or whose answer went quiet for longer than the idle timeout,
 * has its upstream request reset, with the reason noted in {@code ex.timedOut}: the replica accepted the request, so
 * the pipeline ends it as a timeout (504) without judging the replica or trying another (a long answer is not a
 * failed replica), or resumes a stream. A non-streamed answer comes whole after its last token: its first-byte
 * timeout grows with the request's {@code max_tokens}. While the client's connection is full (back-pressure) only the
 * total time counts. One sweep a second for all of them instead of two timers per request (a timer is set and
 * cancelled on each), so a timeout fires up to a second late.
 */
final class Watchdog {

  /** Why a request past its total time was reset: it gets no continuation either. */
  static final String TOTAL_TIME_EXCEEDED = "total request time exceeded";

  private final SlotList<ProxyExchange> watched = new SlotList<>();
  private final long totalTimeoutNanos;
  private final long firstByteTimeoutNanos;
  private final long idleTimeoutNanos;
  private final long perTokenNanos;
  private final int tokensWhenUnknown;
  private final LongSupplier clockNanos;

  Watchdog(long totalTimeoutMs, long firstByteTimeoutMs, long idleTimeoutMs, LongSupplier clockNanos) {
    this(totalTimeoutMs, firstByteTimeoutMs, idleTimeoutMs, 0, 0, clockNanos);
  }

  /**
   * @param firstBytePerTokenMs added to a non-streamed request's first-byte timeout per token of its budget
   * @param tokensWhenUnknown the budget assumed when a request sets none
   */
  Watchdog(long totalTimeoutMs, long firstByteTimeoutMs, long idleTimeoutMs, long firstBytePerTokenMs,
           int tokensWhenUnknown, LongSupplier clockNanos) {
    this.totalTimeoutNanos = totalTimeoutMs * 1_000_000;
    this.firstByteTimeoutNanos = firstByteTimeoutMs * 1_000_000;
    this.idleTimeoutNanos = idleTimeoutMs * 1_000_000;
    this.perTokenNanos = firstBytePerTokenMs * 1_000_000;
    this.tokensWhenUnknown = tokensWhenUnknown;
    this.clockNanos = clockNanos;
  }

  /** The first-byte timeout of this exchange: longer for a whole answer of many tokens, at most the total time. */
  long firstByteTimeoutNanos(ProxyExchange ex) {
    if (ex.parsed == null || ex.parsed.stream() || perTokenNanos == 0) {
      return firstByteTimeoutNanos;
    }
    long tokens = ex.parsed.maxTokens() > 0 ? ex.parsed.maxTokens() : tokensWhenUnknown;
    return Math.min(totalTimeoutNanos, firstByteTimeoutNanos + Math.min(tokens, 10_000_000L) * perTokenNanos);
  }

  /** The exchange's upstream request is being sent now: its first-byte timer starts. */
  void watch(ProxyExchange ex) {
    ex.sentNanos = clockNanos.getAsLong();
    ex.lastDataNanos = 0;
    ex.timedOut = null;
    watched.add(ex);
  }

  /** The request ended: its timers stop. */
  void unwatch(ProxyExchange ex) {
    watched.remove(ex);
  }

  int watching() {
    return watched.size();
  }

  /** Resets the upstream request of every request past its time; returns how many. */
  int sweep() {
    if (watched.isEmpty()) {
      return 0;
    }
    long now = clockNanos.getAsLong();
    List<ProxyExchange> late = null;
    for (int i = 0; i < watched.size(); i++) {
      ProxyExchange ex = watched.get(i);
      if (ex.upstream != null && why(ex, now) != null) {
        (late == null ? late = new ArrayList<>() : late).add(ex);
      }
    }
    if (late == null) {
      return 0;
    }
    for (ProxyExchange ex : late) {
      ex.timedOut = why(ex, now);
      ex.upstream.reset(0, new TimeoutException(ex.timedOut));
    }
    return late.size();
  }

  /**
   * The gateway is stopping and its drain time is over: every request still talking to a replica has its upstream
   * request reset; the pipeline ends it with 503 {@code shutting_down} (a stream: with an error event). Returns how many.
   */
  int abortAll() {
    List<ProxyExchange> all = new ArrayList<>(watched.size());
    for (int i = 0; i < watched.size(); i++) {
      all.add(watched.get(i));
    }
    for (ProxyExchange ex : all) {
      ex.shuttingDown = true;
      if (ex.upstream != null) {
        ex.upstream.reset(0, IngressFailure.shuttingDown());
      }
    }
    return all.size();
  }

  private String why(ProxyExchange ex, long now) {
    if (now - ex.startNanos > totalTimeoutNanos) {
      return TOTAL_TIME_EXCEEDED;
    }
    if (ex.clientPaused) {
      return null; // the client is slow, not the model server
    }
    long firstByte = firstByteTimeoutNanos(ex);
    if (ex.lastDataNanos == 0 && now - ex.sentNanos > firstByte) {
      return "no answer from the model server within " + (firstByte / 1_000_000) + " ms";
    }
    if (ex.lastDataNanos > 0 && now - ex.lastDataNanos > idleTimeoutNanos) {
      return "no data from the model server for " + (idleTimeoutNanos / 1_000_000) + " ms";
    }
    return null;
  }
}
