package io.inferencegateway.auth;

import io.inferencegateway.store.ApiKeyRow;
import io.inferencegateway.store.ApiKeyStore;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Every API key, in memory, by hash: checking a key on the hot path is a SHA-256 and a map lookup, no query.
 * The map is an immutable snapshot swapped on change. A key the snapshot does not know is looked up once in the
 * database (it may have been created by another gateway instance); unknown hashes are then remembered in a bounded
 * negative cache so that a client retrying a bad key cannot turn into one query per request.
 */
public final class KeyCache {

  private static final Logger log = LoggerFactory.getLogger(KeyCache.class);

  private final ApiKeyStore store;
  private final NegativeCache negative;
  /** Database look-ups for unknown keys allowed per second, whatever the traffic. */
  private final int missLookupsPerSecond;
  private final AtomicLong missWindow = new AtomicLong();
  private final LongSupplier clockMs;

  private volatile Map<String, ApiKeyRow> byHash = Map.of();

  public KeyCache(ApiKeyStore store, int negativeEntries, long negativeTtlMs, int missLookupsPerSecond,
                  LongSupplier clockMs) {
    this.store = store;
    this.negative = new NegativeCache(negativeEntries, negativeTtlMs, clockMs);
    this.missLookupsPerSecond = missLookupsPerSecond;
    this.clockMs = clockMs;
  }

  public KeyCache(ApiKeyStore store) {
    this(store, 10_000, 30_000, 100, System::currentTimeMillis);
  }

  /** Checks the token of an Authorization header. Completes at once unless the key must be looked up. */
  public Future<KeyCheck> check(String token) {
    if (token == null) {
      return Future.succeededFuture(KeyCheck.MISSING);
    }
    String hash = ApiKeys.sha256Hex(token);
    ApiKeyRow row = byHash.get(hash);
    if (row != null) {
      return Future.succeededFuture(judge(row));
    }
    if (negative.contains(hash) || !mayLookUp()) {
      return Future.succeededFuture(KeyCheck.UNKNOWN);
    }
    return store.byHash(hash)
        .map(found -> {
          if (found.isEmpty()) {
            negative.add(hash);
            return KeyCheck.UNKNOWN;
          }
          upsert(found.get());
          return judge(found.get());
        })
        .recover(err -> {
          log.warn("API key look-up failed ({}); treating the key as unknown", err.getMessage());
          return Future.succeededFuture(KeyCheck.UNKNOWN);
        });
  }

  private KeyCheck judge(ApiKeyRow row) {
    if (!row.enabled()) {
      return new KeyCheck(KeyCheck.Outcome.DISABLED, row);
    }
    if (row.expiresAt() != null && row.expiresAt().toEpochMilli() <= clockMs.getAsLong()) {
      return new KeyCheck(KeyCheck.Outcome.EXPIRED, row);
    }
    return new KeyCheck(KeyCheck.Outcome.VALID, row);
  }

  private boolean mayLookUp() {
    long second = clockMs.getAsLong() / 1000;
    while (true) {
      long cur = missWindow.get();
      long curSecond = cur >>> 20;
      long count = cur & 0xFFFFF;
      long next = curSecond == second ? (count >= missLookupsPerSecond ? -1 : (second << 20) | (count + 1)) : (second << 20) | 1;
      if (next == -1) {
        return false;
      }
      if (missWindow.compareAndSet(cur, next)) {
        return true;
      }
    }
  }

  public synchronized void replaceAll(List<ApiKeyRow> rows) {
    Map<String, ApiKeyRow> next = new HashMap<>(rows.size() * 2);
    for (ApiKeyRow r : rows) {
      next.put(r.keyHash(), r);
    }
    byHash = Map.copyOf(next);
    negative.clear();
  }

  public synchronized void upsert(ApiKeyRow row) {
    Map<String, ApiKeyRow> next = new HashMap<>(byHash);
    next.values().removeIf(r -> r.id() == row.id());
    next.put(row.keyHash(), row);
    byHash = Map.copyOf(next);
    negative.remove(row.keyHash());
  }

  public synchronized void remove(long id) {
    Map<String, ApiKeyRow> next = new HashMap<>(byHash);
    if (next.values().removeIf(r -> r.id() == id)) {
      byHash = Map.copyOf(next);
    }
  }

  /** A bounded, time-limited set of hashes known not to exist. */
  static final class NegativeCache {
    private final int max;
    private final long ttlMs;
    private final LongSupplier clockMs;
    private final LinkedHashMap<String, Long> entries;

    NegativeCache(int max, long ttlMs, LongSupplier clockMs) {
      this.max = max;
      this.ttlMs = ttlMs;
      this.clockMs = clockMs;
      this.entries = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
          return size() > NegativeCache.this.max;
        }
      };
    }

    synchronized boolean contains(String hash) {
      Long until = entries.get(hash);
      if (until == null) {
        return false;
      }
      if (until < clockMs.getAsLong()) {
        entries.remove(hash);
        return false;
      }
      return true;
    }

    synchronized void add(String hash) {
      entries.put(hash, clockMs.getAsLong() + ttlMs);
    }

    synchronized void remove(String hash) {
      entries.remove(hash);
    }

    synchronized void clear() {
      entries.clear();
    }

    synchronized int size() {
      return entries.size();
    }
  }
}
