package io.inferencegateway.limits;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.LongPredicate;

/**
 * Requests waiting for a saturated model, released by weighted fair share across API keys: strict priority classes
 * (a higher class always goes first), and within a class start-time fair queueing (virtual finish times). Each key's
 * requests get finish tags {@code max(V, the key's last tag) + 1 / weight}, where V is the start tag of the request
 * released last; the smallest tag leaves first. A key that sends a burst thus waits behind its own burst, while a key
 * that arrives later is served within one round, whatever the burst's size: a heavy key cannot starve a light one,
 * and a key of weight 2 gets twice the share of a key of weight 1 while both wait.
 *
 * <p>Not thread-safe: the caller holds one lock per queue. Times are the caller's (an injected clock).
 *
 * @param <T> what waits (the caller's waiter)
 */
public final class FairQueue<T> {

  /** One waiting request; {@link #remove} takes it out early (timeout, client gone). */
  public static final class Entry<T> {
    private final T item;
    private final long keyId;
    private final int priority;
    private final double start;
    private final double finish;
    private final long seq;
    private final long enqueuedAtMs;
    private boolean queued = true;

    private Entry(T item, long keyId, int priority, double start, double finish, long seq, long enqueuedAtMs) {
      this.item = item;
      this.keyId = keyId;
      this.priority = priority;
      this.start = start;
      this.finish = finish;
      this.seq = seq;
      this.enqueuedAtMs = enqueuedAtMs;
    }

    public T item() {
      return item;
    }

    public long keyId() {
      return keyId;
    }

    public int priority() {
      return priority;
    }

    public long enqueuedAtMs() {
      return enqueuedAtMs;
    }

    public boolean queued() {
      return queued;
    }
  }

  /** One priority class: its entries by finish tag, its virtual time and each key's last finish tag. */
  private static final class PriorityClass<T> {
    final TreeSet<Entry<T>> entries = new TreeSet<>((a, b) -> a.finish != b.finish
        ? Double.compare(a.finish, b.finish) : Long.compare(a.seq, b.seq));
    final Map<Long, Double> lastFinish = new HashMap<>();
    final Map<Long, Integer> queuedByKey = new HashMap<>();
    double virtualTime;
  }

  /** Classes from the highest priority down. */
  private final TreeMap<Integer, PriorityClass<T>> classes = new TreeMap<>(java.util.Comparator.reverseOrder());
  private long seq;
  private int size;

  /**
   * Adds a request.
   *
   * @param weight the key's share (at least 1; 2 = twice the share of a key of weight 1)
   */
  public Entry<T> add(T item, long keyId, int priority, int weight, long nowMs) {
    PriorityClass<T> c = classes.computeIfAbsent(priority, p -> new PriorityClass<>());
    double start = Math.max(c.virtualTime, c.lastFinish.getOrDefault(keyId, 0d));
    double finish = start + 1d / Math.max(1, weight);
    c.lastFinish.put(keyId, finish);
    c.queuedByKey.merge(keyId, 1, Integer::sum);
    Entry<T> e = new Entry<>(item, keyId, priority, start, finish, seq++, nowMs);
    c.entries.add(e);
    size++;
    return e;
  }

  /** The next request to release (highest class, smallest finish tag), taken out of the queue; null if empty. */
  public Entry<T> poll() {
    for (PriorityClass<T> c : classes.values()) {
      Entry<T> e = c.entries.pollFirst();
      if (e != null) {
        c.virtualTime = Math.max(c.virtualTime, e.start);
        taken(c, e);
        return e;
      }
    }
    return null;
  }

  /**
   * Like {@link #poll}, but passes over the requests of keys that {@code held} names (they may not go now), looking at
   * no more than {@code maxScan} requests: the first request of any other key comes out. A key arriving behind a long
   * backlog of another key's requests sits within the first few places (its tag starts at the virtual time), so a
   * short scan finds it.
   *
   * @return the request taken out, or null if none of the first {@code maxScan} may go
   */
  public Entry<T> pollExcept(LongPredicate held, int maxScan) {
    int scanned = 0;
    for (PriorityClass<T> c : classes.values()) {
      for (java.util.Iterator<Entry<T>> it = c.entries.iterator(); it.hasNext() && scanned < maxScan; scanned++) {
        Entry<T> e = it.next();
        if (!held.test(e.keyId)) {
          it.remove();
          c.virtualTime = Math.max(c.virtualTime, e.start);
          taken(c, e);
          return e;
        }
      }
      if (scanned >= maxScan) {
        return null;
      }
    }
    return null;
  }

  /** The next request {@link #poll} would return, left in place; null if empty. */
  public Entry<T> peek() {
    for (PriorityClass<T> c : classes.values()) {
      if (!c.entries.isEmpty()) {
        return c.entries.first();
      }
    }
    return null;
  }

  /** Takes a request out before its turn (it timed out, or its client left); false if it was no longer queued. */
  public boolean remove(Entry<T> e) {
    if (!e.queued) {
      return false;
    }
    PriorityClass<T> c = classes.get(e.priority);
    if (c == null || !c.entries.remove(e)) {
      return false;
    }
    taken(c, e);
    return true;
  }

  private void taken(PriorityClass<T> c, Entry<T> e) {
    e.queued = false;
    size--;
    if (c.queuedByKey.merge(e.keyId, -1, Integer::sum) <= 0) {
      c.queuedByKey.remove(e.keyId);
      // an idle key keeps no credit or debt beyond the present: it restarts at the virtual time
      if (c.lastFinish.getOrDefault(e.keyId, 0d) <= c.virtualTime) {
        c.lastFinish.remove(e.keyId);
      }
    }
    if (c.entries.isEmpty() && c.queuedByKey.isEmpty()) {
      c.lastFinish.clear();
    }
  }

  public int size() {
    return size;
  }

  public boolean isEmpty() {
    return size == 0;
  }

  /** Requests of this key waiting now. */
  public int queued(long keyId) {
    int n = 0;
    for (PriorityClass<T> c : classes.values()) {
      n += c.queuedByKey.getOrDefault(keyId, 0);
    }
    return n;
  }
}
