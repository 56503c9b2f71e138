package io.inferencegateway.limits;

import java.util.HashMap;
import java.util.Map;

/**
 * The requests of each key's allowance that one event loop has already taken from the shared Redis bucket, to spend
 * without asking Redis (see {@link RedisRateLimiter}). A key's credit is at most {@code prefetchFraction} of its
 * requests per minute and at most {@link #MAX_CREDIT}; under 2 it gets none. A key gets credit from its second check
 * within {@code ttlMs} on: most of many rarely used keys would otherwise take credit only to give it back. Credit is
 * topped up when half of it is spent, and given back when it has not been topped up for {@code ttlMs}, when the key's
 * limits change, or when the key runs out of tokens. Not thread-safe: the limiter's event loop owns it.
 */
public final class CreditBook {

  /** Credit is never larger than this, whatever the key's limit. */
  public static final int MAX_CREDIT = 1000;

  /** What spending found: no usable credit, credit spent, or credit spent and now due for a top-up. */
  public enum Spend { NONE, SPENT, SPENT_TOP_UP }

  private static final class Credit {
    int left;
    int rpm;
    int tpm;
    long expiresAtMs;
    boolean refilling;

    boolean usable(int rpm, int tpm, long now) {
      return left > 0 && this.rpm == rpm && this.tpm == tpm && now < expiresAtMs;
    }
  }

  private final double prefetchFraction;
  private final long ttlMs;
  private final Map<Long, Credit> credits = new HashMap<>();
  /** Credit to give back: key id -> {rpm, requests}. */
  private final Map<Long, int[]> refunds = new HashMap<>();

  public CreditBook(double prefetchFraction, long ttlMs) {
    this.prefetchFraction = prefetchFraction;
    this.ttlMs = ttlMs;
  }

  /** How much credit a key with this limit may hold; 0 means none (its requests are checked one by one). */
  public int size(int rpm) {
    int size = (int) Math.min(MAX_CREDIT, Math.floor(rpm * prefetchFraction));
    return size >= 2 ? size : 0;
  }

  public Spend spend(long keyId, int rpm, int tpm, long now) {
    int size = size(rpm);
    if (size == 0) {
      return Spend.NONE;
    }
    Credit credit = credits.get(keyId);
    if (credit == null || !credit.usable(rpm, tpm, now)) {
      return Spend.NONE;
    }
    credit.left--;
    if (credit.left <= size / 2 && !credit.refilling) {
      credit.refilling = true;
      return Spend.SPENT_TOP_UP;
    }
    return Spend.SPENT;
  }

  /**
   * Credit to ask Redis for along with a check of this key: none the first time the key is seen in {@code ttlMs},
   * else enough to fill its credit up again.
   */
  public int wanted(long keyId, int rpm, int tpm, long now) {
    int size = size(rpm);
    if (size == 0) {
      return 0;
    }
    Credit credit = credits.get(keyId);
    if (credit == null) {
      credit = new Credit(); // seen once: remembered (with no credit) for ttlMs
      credit.rpm = rpm;
      credit.tpm = tpm;
      credit.expiresAtMs = now + ttlMs;
      credits.put(keyId, credit);
      return 0;
    }
    return credit.usable(rpm, tpm, now) ? Math.max(0, size - credit.left) : size;
  }

  /** Adds what Redis granted; credit held for other limits, or for a key out of tokens, is given back. */
  public void granted(long keyId, int rpm, int tpm, int granted, boolean outOfTokens, long now) {
    Credit credit = credits.get(keyId);
    if (credit == null) {
      if (granted == 0) {
        return;
      }
      credit = new Credit();
      credits.put(keyId, credit);
    }
    credit.refilling = false;
    if (credit.rpm != rpm || credit.tpm != tpm || outOfTokens) {
      giveBack(keyId, credit.rpm, credit.left);
      credit.left = 0;
    }
    credit.rpm = rpm;
    credit.tpm = tpm;
    credit.left += granted;
    credit.expiresAtMs = now + ttlMs;
  }

  /** A top-up got no answer: the next request past the half-way mark asks again. */
  public void topUpFailed(long keyId) {
    Credit credit = credits.get(keyId);
    if (credit != null) {
      credit.refilling = false;
    }
  }

  /** Gives back credit not topped up for {@code ttlMs} (or all of it), for the other instances to use. */
  public void expire(long now, boolean all) {
    if (credits.isEmpty()) {
      return;
    }
    credits.entrySet().removeIf(e -> {
      Credit c = e.getValue();
      if (all || (now >= c.expiresAtMs && !c.refilling)) {
        giveBack(e.getKey(), c.rpm, c.left);
        return true;
      }
      return false;
    });
  }

  /** The credit to give back since the last call: key id -> {rpm, requests}. */
  public Map<Long, int[]> takeRefunds() {
    if (refunds.isEmpty()) {
      return Map.of();
    }
    Map<Long, int[]> out = Map.copyOf(refunds);
    refunds.clear();
    return out;
  }

  /** Unspent credit of a key (0 if none). */
  public int left(long keyId) {
    Credit credit = credits.get(keyId);
    return credit == null ? 0 : credit.left;
  }

  private void giveBack(long keyId, int rpm, int requests) {
    if (requests > 0) {
      refunds.merge(keyId, new int[] {rpm, requests}, (a, b) -> new int[] {b[0], a[1] + b[1]});
    }
  }
}
