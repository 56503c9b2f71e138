package io.inferencegateway.ingress;

import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * The request deadline of one ingress event loop: a request's head and body must have arrived within
 * {@code http.requestDeadlineMs}, counted from the connection's opening for its first request (so a connection that
 * sends nothing, or its head byte by byte, is closed) and from the head's arrival for the next ones on a kept-alive
 * connection. Checked by one sweep a second (so up to a second late) instead of a timer per request.
 */
final class IntakeGuard {

  /** What waits for a body: whether it has all arrived, and what to do when the deadline passes first. */
  interface Waiting {
    void expire();

    /** True once the body has all arrived (the sweep then forgets it; a reader that unwatches needs no answer). */
    default boolean done() {
      return false;
    }
  }

  /** A watched body (identity: one per request). */
  static final class Entry {
    final long deadlineNanos;
    final Waiting waiting;

    Entry(long deadlineNanos, Waiting waiting) {
      this.deadlineNanos = deadlineNanos;
      this.waiting = waiting;
    }
  }

  private final long deadlineMs;
  private final long deadlineNanos;
  private final LongSupplier clockNanos;
  /** Open connections that have not sent a whole request head yet, with when they opened. */
  private final Map<HttpConnection, Long> awaitingHead = new HashMap<>();
  private final Set<Entry> bodies = new HashSet<>();

  IntakeGuard(long deadlineMs, LongSupplier clockNanos) {
    this.deadlineMs = deadlineMs;
    this.deadlineNanos = deadlineMs * 1_000_000;
    this.clockNanos = clockNanos;
  }

  long deadlineMs() {
    return deadlineMs;
  }

  /** A client connection opened: its first request's head must arrive by the deadline. */
  void connected(HttpConnection conn) {
    awaitingHead.put(conn, clockNanos.getAsLong());
  }

  void disconnected(HttpConnection conn) {
    awaitingHead.remove(conn);
  }

  /** A request's head arrived: when its head and body must have arrived. */
  long arrived(HttpServerRequest req) {
    Long opened = awaitingHead.isEmpty() ? null : awaitingHead.remove(req.connection());
    return (opened != null ? opened : clockNanos.getAsLong()) + deadlineNanos;
  }

  /** Watches a body being read; {@link #unwatch} once it is read (or the request ended another way). */
  Entry watch(long deadlineNanos, Waiting waiting) {
    Entry e = new Entry(deadlineNanos, waiting);
    bodies.add(e);
    return e;
  }

  void unwatch(Entry e) {
    bodies.remove(e);
  }

  int watching() {
    return bodies.size();
  }

  /** Closes connections with no request head by their deadline, expires bodies past theirs; returns how many. */
  int sweep() {
    long now = clockNanos.getAsLong();
    List<HttpConnection> silent = null;
    for (Map.Entry<HttpConnection, Long> c : awaitingHead.entrySet()) {
      if (now - c.getValue() > deadlineNanos) {
        (silent == null ? silent = new ArrayList<>() : silent).add(c.getKey());
      }
    }
    List<Entry> late = null;
    for (java.util.Iterator<Entry> it = bodies.iterator(); it.hasNext(); ) {
      Entry e = it.next();
      if (e.waiting.done()) {
        it.remove();
      } else if (now - e.deadlineNanos > 0) {
        (late == null ? late = new ArrayList<>() : late).add(e);
      }
    }
    int n = 0;
    if (silent != null) {
      for (HttpConnection conn : silent) {
        awaitingHead.remove(conn);
        conn.close();
        n++;
      }
    }
    if (late != null) {
      for (Entry e : late) {
        bodies.remove(e);
        e.waiting.expire();
        n++;
      }
    }
    return n;
  }
}
