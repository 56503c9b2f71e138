package io.inferencegateway.limits;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Limits shared by every gateway instance on one Redis: each request is checked by an atomic script (token buckets,
 * the same arithmetic as {@link TokenBucket}, on Redis's clock so instances agree). The checks an event loop makes
 * in one turn go to Redis as one script call, so under load a round trip serves many requests. Tokens used are
 * charged after the answer, gathered per key and sent in one pipelined batch every {@code flushMs}.
 *
 * <p>Prefetched credit keeps the Redis round trip off the hot path for busy keys with large limits: from a key's second
 * check within {@code creditTtlMs} on (a key used once in a while takes none), when its bucket has room, the script
 * also hands this event loop a small credit (at most {@code prefetchFraction} of the key's requests per minute, at most
 * 1000, and at most half of what is left in the bucket), taken from the shared bucket like any request. The key's next
 * requests spend that credit without waiting for Redis, and the credit is topped up in the background when half of it
 * is spent. The limit still holds across instances (credit comes out of the same bucket, so no more than the limit ever
 * passes), but near the limit another instance may refuse a request while this one holds unused credit: at most one
 * credit per key and event loop, given back to the bucket once the key has been quiet for {@code creditTtlMs}. Keys
 * whose credit would be under 2 requests (with the default 0.01, limits under 200 requests a minute) get none and are
 * checked exactly, request by request. A key's tokens-per-minute limit is checked on each top-up, so credit may admit
 * up to one credit's worth of requests after the key's tokens ran out (tokens are charged after the answer in any
 * case).
 */
public final class RedisRateLimiter implements RateLimiter {

  /**
   * What every script starts with: the time in ms (ARGV[1]: Redis's clock when negative, as in production, so that
   * instances agree; a test's clock otherwise), and a bucket's level now (full when it has no entry, refilled at
   * {@code cap} per minute since it was last written, never above {@code cap}).
   */
  private static final String BUCKETS = """
      local now = tonumber(ARGV[1])
      if now < 0 then
        local t = redis.call('TIME')
        now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
      end
      local function level(key, cap)
        local v = redis.call('HMGET', key, 'v', 'ts')
        local val = tonumber(v[1])
        if val == nil then return cap end
        return math.min(cap, val + math.max(0, now - tonumber(v[2])) * cap / 60000)
      end
      """;

  /**
   * Checks a batch of requests in one call, grouped by key. KEYS: for each key its requests bucket and tokens bucket.
   * ARGV: the time (see above), then for each key its rpm, tpm (0 = none), how many requests of the batch are its, and how much credit the
   * caller would like on top. Returns, for each key in order, how many requests are allowed (the first ones), the
   * retry-after ms for the rest, what ran out, and the credit granted (only when all of the key's requests were
   * allowed, and at most half of what is left). The whole batch is one atomic script, so the limits hold across every
   * gateway on this Redis exactly as if the requests had come one by one.
   */
  static final String ACQUIRE = BUCKETS + """
      local out = {}
      for i = 1, (#ARGV - 1) / 4 do
        local rk, tk = KEYS[2 * i - 1], KEYS[2 * i]
        local rpm, tpm = tonumber(ARGV[4 * i - 2]), tonumber(ARGV[4 * i - 1])
        local n, want = tonumber(ARGV[4 * i]), tonumber(ARGV[4 * i + 1])
        local allowed, wait, what, credit = 0, 0, 'ok', 0
        local tokensLeft = true
        if tpm > 0 then
          local tl = level(tk, tpm)
          if tl <= 0 then
            tokensLeft = false
            wait, what = math.ceil((1 - tl) * 60000 / tpm), 'tokens'
          end
        end
        if tokensLeft then
          local r = level(rk, rpm)
          allowed = math.min(n, math.floor(r))
          if allowed == n and want > 0 then
            credit = math.max(0, math.min(want, math.floor((r - n) / 2)))
          end
          if allowed + credit > 0 then
            redis.call('HSET', rk, 'v', tostring(r - allowed - credit), 'ts', now)
            redis.call('PEXPIRE', rk, 120000)
          end
          if allowed < n then
            wait, what = math.ceil((1 - (r - allowed)) * 60000 / rpm), 'requests'
          end
        end
        out[#out + 1] = allowed
        out[#out + 1] = wait
        out[#out + 1] = what
        out[#out + 1] = credit
      end
      return out
      """;

  /** KEYS: tokens bucket. ARGV: the time, tpm, tokens used. */
  static final String CHARGE = BUCKETS + """
      local cap = tonumber(ARGV[2])
      local val = math.min(cap, level(KEYS[1], cap) - tonumber(ARGV[3]))
      redis.call('HSET', KEYS[1], 'v', tostring(val), 'ts', now)
      redis.call('PEXPIRE', KEYS[1], 120000)
      return 1
      """;

  /**
   * Gives unused credit back, never above a full bucket. KEYS: requests bucket. ARGV: the time, rpm, requests to give
   * back.
   */
  static final String REFUND = BUCKETS + """
      local cap = tonumber(ARGV[2])
      local val = math.min(cap, level(KEYS[1], cap) + tonumber(ARGV[3]))
      redis.call('HSET', KEYS[1], 'v', tostring(val), 'ts', now)
      redis.call('PEXPIRE', KEYS[1], 120000)
      return 1
      """;

  private static final String ACQUIRE_SHA = sha1(ACQUIRE);
  private static final Future<LimitDecision> ALLOWED_NOW = Future.succeededFuture(LimitDecision.ALLOWED);

  private final RedisLink redis;
  private final Map<Long, int[]> pendingCharges = new ConcurrentHashMap<>();
  private final long timerId;
  private final Vertx vertx;
  private final String prefix;
  private final Context context;
  private final long timeoutMs;
  /** The time for credit, and for the buckets when not Redis's own (null: the system's, and Redis's TIME). */
  private final LongSupplier clock;
  /** This event loop's prefetched credit (only this limiter's event loop touches it). */
  private final CreditBook credit;
  private List<Pending> queue = new ArrayList<>();
  private boolean flushScheduled;

  /**
   * @param flushMs how often charges and unused credit go to Redis
   * @param prefetchFraction the share of a key's requests per minute one event loop may hold as credit (0: none)
   * @param creditTtlMs how long credit lives after its last top-up before it is given back
   */
  public RedisRateLimiter(Vertx vertx, RedisLink redis, long flushMs, String prefix, long timeoutMs,
                          double prefetchFraction, long creditTtlMs) {
    this(vertx, redis, flushMs, prefix, timeoutMs, prefetchFraction, creditTtlMs, null);
  }

  /** @param clock a test's clock, used for credit and sent to Redis instead of its TIME; null in production */
  RedisRateLimiter(Vertx vertx, RedisLink redis, long flushMs, String prefix, long timeoutMs,
                   double prefetchFraction, long creditTtlMs, LongSupplier clock) {
    this.clock = clock;
    this.timeoutMs = timeoutMs;
    this.credit = new CreditBook(prefetchFraction, creditTtlMs);
    this.vertx = vertx;
    this.prefix = prefix;
    this.context = vertx.getOrCreateContext(); // the ingress verticle's event loop: the only caller
    this.redis = redis;
    this.timerId = vertx.setPeriodic(flushMs, id -> flushCharges());
  }

  private long now() {
    return clock == null ? System.currentTimeMillis() : clock.getAsLong();
  }

  /** The time argument of the scripts: -1 lets Redis use its own clock. */
  private String redisNow() {
    return clock == null ? "-1" : Long.toString(clock.getAsLong());
  }

  String requestsKey(long keyId) {
    return prefix + ":rl:{" + keyId + "}:r";
  }

  String tokensKey(long keyId) {
    return prefix + ":rl:{" + keyId + "}:t";
  }

  @Override
  public Future<LimitDecision> acquire(long keyId, int rpm, int tpm) {
    int tokensPerMinute = Math.max(tpm, 0);
    switch (credit.spend(keyId, rpm, tokensPerMinute, now())) {
      case SPENT_TOP_UP:
        enqueue(new Pending(keyId, rpm, tokensPerMinute, null)); // a top-up in the background, no request waits
        return ALLOWED_NOW;
      case SPENT:
        return ALLOWED_NOW;
      default:
        Promise<LimitDecision> promise = Promise.promise();
        enqueue(new Pending(keyId, rpm, tokensPerMinute, promise));
        return promise.future();
    }
  }

  private void enqueue(Pending pending) {
    queue.add(pending);
    if (!flushScheduled) {
      flushScheduled = true;
      context.runOnContext(v -> sendBatch()); // after the requests this event-loop turn is handling
    }
  }

  /** A request waiting for Redis's verdict, or (promise null) a background top-up of the key's credit. */
  private record Pending(long keyId, int rpm, int tpm, Promise<LimitDecision> promise) {}

  /** Sends every check queued during this event-loop turn as one script call (one write, one Redis round trip). */
  private void sendBatch() {
    flushScheduled = false;
    List<Pending> batch = queue;
    queue = new ArrayList<>();
    // one entry per key: a busy key's requests cost Redis one read and one write per batch, not per request
    Map<Long, List<Pending>> byKey = new LinkedHashMap<>();
    for (Pending p : batch) {
      byKey.computeIfAbsent(p.keyId(), k -> new ArrayList<>(4)).add(p);
    }
    String[] args = new String[byKey.size() * 6 + 1];
    int k = 0;
    for (Long keyId : byKey.keySet()) {
      args[k++] = requestsKey(keyId);
      args[k++] = tokensKey(keyId);
    }
    args[k++] = redisNow();
    for (Map.Entry<Long, List<Pending>> e : byKey.entrySet()) {
      List<Pending> requests = e.getValue();
      Pending last = requests.get(requests.size() - 1); // the newest limits, should a key change within the batch
      args[k++] = Integer.toString(last.rpm());
      args[k++] = Integer.toString(last.tpm());
      args[k++] = Integer.toString(waiting(requests));
      args[k++] = Integer.toString(credit.wanted(e.getKey(), last.rpm(), last.tpm(), now()));
    }
    // one timer per batch, on this event loop (Future.timeout would hand every call to Netty's global thread)
    long timer = vertx.setTimer(timeoutMs, id -> {
      TimeoutException late = new TimeoutException("Redis did not answer in " + timeoutMs + " ms");
      fail(batch, late);
    });
    evalsha(ACQUIRE_SHA, ACQUIRE, byKey.size() * 2, args).onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.failed()) {
        fail(batch, ar.cause());
        return;
      }
      Response r = ar.result();
      int i = 0;
      for (Map.Entry<Long, List<Pending>> e : byKey.entrySet()) {
        List<Pending> requests = e.getValue();
        int allowed = r.get(4 * i).toInteger();
        String ranOut = r.get(4 * i + 2).toString();
        LimitDecision refused = allowed >= waiting(requests) ? null
            : LimitDecision.refused(ranOut, r.get(4 * i + 1).toLong());
        int j = 0;
        for (Pending p : requests) {
          if (p.promise() != null) {
            p.promise().tryComplete(j++ < allowed ? LimitDecision.ALLOWED : refused);
          }
        }
        Pending last = requests.get(requests.size() - 1);
        credit.granted(e.getKey(), last.rpm(), last.tpm(), r.get(4 * i + 3).toInteger(), "tokens".equals(ranOut),
            now());
        i++;
      }
    });
  }

  private static int waiting(List<Pending> requests) {
    int n = 0;
    for (Pending p : requests) {
      n += p.promise() == null ? 0 : 1;
    }
    return n;
  }

  private void fail(List<Pending> batch, Throwable cause) {
    for (Pending p : batch) {
      if (p.promise() != null) {
        p.promise().tryFail(cause);
      } else {
        credit.topUpFailed(p.keyId());
      }
    }
  }

  @Override
  public void chargeTokens(long keyId, int tpm, int tokens) {
    if (tpm <= 0 || tokens == 0) {
      return;
    }
    pendingCharges.compute(keyId, (k, v) -> {
      if (v == null) {
        return new int[] {tpm, tokens};
      }
      v[0] = tpm;
      v[1] += tokens;
      return v;
    });
  }

  /** Sends the charges gathered since the last flush, and credit that expired, in one pipelined batch. */
  public Future<Void> flushCharges() {
    credit.expire(now(), false);
    Map<Long, int[]> refunds = credit.takeRefunds();
    if (pendingCharges.isEmpty() && refunds.isEmpty()) {
      return Future.succeededFuture();
    }
    List<Request> batch = new ArrayList<>();
    refunds.forEach((keyId, v) ->
        batch.add(Request.cmd(Command.EVAL).arg(REFUND).arg(1).arg(requestsKey(keyId)).arg(redisNow()).arg(v[0])
            .arg(v[1])));
    for (Long keyId : List.copyOf(pendingCharges.keySet())) {
      int[] v = pendingCharges.remove(keyId);
      if (v != null) {
        batch.add(Request.cmd(Command.EVAL).arg(CHARGE).arg(1).arg(tokensKey(keyId)).arg(redisNow()).arg(v[0])
            .arg(v[1]));
      }
    }
    return redis.batch(batch).mapEmpty();
  }

  private Future<Response> evalsha(String sha, String script, int numKeys, String... args) {
    Request req = Request.cmd(Command.EVALSHA).arg(sha).arg(numKeys);
    for (String a : args) {
      req.arg(a);
    }
    return redis.send(req).recover(err -> {
      if (err.getMessage() != null && err.getMessage().startsWith("NOSCRIPT")) {
        Request eval = Request.cmd(Command.EVAL).arg(script).arg(numKeys);
        for (String a : args) {
          eval.arg(a);
        }
        return redis.send(eval);
      }
      return Future.failedFuture(err);
    });
  }

  @Override
  public Future<Void> close() {
    vertx.cancelTimer(timerId);
    credit.expire(0, true); // unused credit goes back to the bucket for the instances that stay
    return flushCharges().recover(err -> Future.succeededFuture());
  }

  private static String sha1(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
