package io.inferencegateway.admin;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Slows down password guessing on {@code POST /api/v1/auth/login}, per remote address: the first
 * {@code freeAttempts} failures cost nothing; each further failure blocks the address for a delay that doubles
 * (1 s, 2 s, 4 s ...) up to {@code maxDelayMs}. A blocked address gets 429 with Retry-After without its password
 * being checked. A success clears the address; failures are forgotten after {@code forgetAfterMs} without any.
 * Bounded: at most {@code maxEntries} addresses are remembered (the least recently seen go first). Shared by every
 * event loop of one gateway process, hence synchronized; each gateway process keeps its own counts.
 */
final class LoginThrottle {

  private static final class Entry {
    int failures;
    long blockedUntil;
    long lastFailureAt;
  }

  private final int freeAttempts;
  private final long baseDelayMs;
  private final long maxDelayMs;
  private final long forgetAfterMs;
  private final int maxEntries;
  private final LongSupplier clock;
  private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);

  LoginThrottle(int freeAttempts, long baseDelayMs, long maxDelayMs, long forgetAfterMs, int maxEntries,
                LongSupplier clock) {
    this.freeAttempts = Math.max(0, freeAttempts);
    this.baseDelayMs = baseDelayMs;
    this.maxDelayMs = maxDelayMs;
    this.forgetAfterMs = forgetAfterMs;
    this.maxEntries = maxEntries;
    this.clock = clock;
  }

  static LoginThrottle standard(int freeAttempts, LongSupplier clock) {
    return new LoginThrottle(freeAttempts, 1000, 15 * 60_000, 60 * 60_000, 10_000, clock);
  }

  /** Milliseconds the address must still wait before it may try again; 0 if it may try now. */
  synchronized long retryAfterMs(String address) {
    Entry e = current(address);
    return e == null ? 0 : Math.max(0, e.blockedUntil - clock.getAsLong());
  }

  /** Records a wrong password; returns the delay now imposed on the address (0 while attempts are free). */
  synchronized long failure(String address) {
    long now = clock.getAsLong();
    Entry e = current(address);
    if (e == null) {
      e = new Entry();
      entries.put(address, e);
      evict();
    }
    e.failures++;
    e.lastFailureAt = now;
    int over = e.failures - freeAttempts;
    if (over <= 0) {
      return 0;
    }
    long delay = over > 40 ? maxDelayMs : Math.min(maxDelayMs, baseDelayMs << Math.min(over - 1, 40));
    e.blockedUntil = now + delay;
    return delay;
  }

  synchronized void success(String address) {
    entries.remove(address);
  }

  synchronized int size() {
    return entries.size();
  }

  private Entry current(String address) {
    Entry e = entries.get(address);
    if (e != null && e.blockedUntil <= clock.getAsLong() && clock.getAsLong() - e.lastFailureAt > forgetAfterMs) {
      entries.remove(address);
      return null;
    }
    return e;
  }

  private void evict() {
    Iterator<Map.Entry<String, Entry>> it = entries.entrySet().iterator();
    while (entries.size() > maxEntries && it.hasNext()) {
      it.next();
      it.remove();
    }
  }
}
