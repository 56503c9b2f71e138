package io.inferencegateway.ingress;

import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The client connections of one ingress event loop, watched by one sweep a second (so up to a second late) instead
 * of timers per request:
 * <ul>
 *   <li>a request's head and body must have arrived within {@code http.requestDeadlineMs}, counted from the
 *   connection's opening for its first request (so a connection that sends nothing, or its head byte by byte, is
 *   closed) and from the head's arrival for the next ones;</li>
 *   <li>a connection with no request in progress for {@code http.idleTimeoutMs} is closed, whatever bytes trickle in
 *   (a kept-alive connection sending its next head byte by byte gets no longer than that). A request in progress
 *   keeps its connection open however long its answer takes (a long generation sends nothing for minutes);
 *   upgraded connections (WebSocket) are left to their own heartbeats.</li>
 * </ul>
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
  static final class Entry implements SlotList.Slotted {
    final long deadlineNanos;
    final Waiting waiting;
    private int slot = -1;

    @Override
    public int slot() {
      return slot;
    }

    @Override
    public void slot(int slot) {
      this.slot = slot;
    }

    Entry(long deadlineNanos, Waiting waiting) {
      this.deadlineNanos = deadlineNanos;
      this.waiting = waiting;
    }
  }

  /** One open client connection. */
  private static final class Conn {
    final long openedNanos;
    boolean sawRequest;
    boolean upgraded;
    /** Since when no request is in progress (as the sweep saw it); 0 while one is. */
    long idleSinceNanos;
    /** Requests whose answers may not have ended yet (pruned by the sweep). */
    final List<HttpServerRequest> active = new ArrayList<>(2);

    Conn(long openedNanos) {
      this.openedNanos = openedNanos;
      this.idleSinceNanos = openedNanos;
    }
  }

  private final long deadlineMs;
  private final long deadlineNanos;
  private final long idleNanos;
  private final LongSupplier clockNanos;
  private final Map<HttpConnection, Conn> conns = new HashMap<>();
  private final SlotList<Entry> bodies = new SlotList<>();

  /** @param idleTimeoutMs 0: idle connections are never closed */
  IntakeGuard(long deadlineMs, long idleTimeoutMs, LongSupplier clockNanos) {
    this.deadlineMs = deadlineMs;
    this.deadlineNanos = deadlineMs * 1_000_000;
    this.idleNanos = idleTimeoutMs * 1_000_000;
    this.clockNanos = clockNanos;
  }

  long deadlineMs() {
    return deadlineMs;
  }

  /** A client connection opened: its first request's head must arrive by the deadline. */
  void connected(HttpConnection conn) {
    conns.put(conn, new Conn(clockNanos.getAsLong()));
  }

  void disconnected(HttpConnection conn) {
    conns.remove(conn);
  }

  int connections() {
    return conns.size();
  }

  /** A request's head arrived: when its head and body must have arrived. */
  long arrived(HttpServerRequest req) {
    long now = clockNanos.getAsLong();
    Conn c = conns.get(req.connection());
    if (c == null) {
      return now + deadlineNanos;
    }
    long start = c.sawRequest ? now : c.openedNanos;
    c.sawRequest = true;
    c.idleSinceNanos = 0;
    List<HttpServerRequest> active = c.active;
    for (int i = active.size() - 1; i >= 0; i--) { // answered requests go now, not at the next sweep (a busy
      if (answered(active.get(i))) {                // connection makes many); a loop: removeIf allocates per call
        active.remove(i);
      }
    }
    c.active.add(req);
    if (req.headers().contains(io.vertx.core.http.HttpHeaders.UPGRADE)) {
      c.upgraded = true; // a WebSocket (its heartbeats keep it alive, not requests)
    }
    return start + deadlineNanos;
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

  private static boolean answered(HttpServerRequest r) {
    return r.response().ended() || r.response().closed();
  }

  /**
   * Closes connections with no request head by their deadline and those idle too long, expires bodies past their
   * deadline; returns how many.
   */
  int sweep() {
    long now = clockNanos.getAsLong();
    List<HttpConnection> closing = null;
    for (Map.Entry<HttpConnection, Conn> e : conns.entrySet()) {
      Conn c = e.getValue();
      if (c.upgraded) {
        continue;
      }
      if (!c.sawRequest) {
        if (now - c.openedNanos > deadlineNanos) {
          (closing == null ? closing = new ArrayList<>() : closing).add(e.getKey());
        }
        continue;
      }
      c.active.removeIf(IntakeGuard::answered);
      if (!c.active.isEmpty()) {
        c.idleSinceNanos = 0;
      } else if (c.idleSinceNanos == 0) {
        c.idleSinceNanos = now;
      } else if (idleNanos > 0 && now - c.idleSinceNanos > idleNanos) {
        (closing == null ? closing = new ArrayList<>() : closing).add(e.getKey());
      }
    }
    List<Entry> late = null;
    for (int i = bodies.size() - 1; i >= 0; i--) { // from the end: a removal moves the last entry, already seen
      Entry e = bodies.get(i);
      if (e.waiting.done()) {
        bodies.remove(e);
      } else if (now - e.deadlineNanos > 0) {
        (late == null ? late = new ArrayList<>() : late).add(e);
      }
    }
    int n = 0;
    if (closing != null) {
      for (HttpConnection conn : closing) {
        conns.remove(conn);
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
