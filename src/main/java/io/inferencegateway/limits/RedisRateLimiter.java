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

/**
 * Limits shared by every gateway instance on one Redis: each request is checked by an atomic script (token buckets,
 * the same arithmetic as {@link TokenBucket}, on Redis's clock so instances agree). The checks an event loop makes
 * in one turn go to Redis as one script call, so under load a round trip serves many requests. Tokens used are
 * charged after the answer, gathered per key and sent in one pipelined batch every {@code flushMs}.
 */
public final class RedisRateLimiter implements RateLimiter {

  /**
   * Checks a batch of requests in one call, grouped by key. KEYS: for each key its requests bucket and tokens bucket.
   * ARGV: for each key its rpm, tpm (0 = none) and how many requests of the batch are its. Returns, for each key in
   * order, how many of them are allowed (the first ones), the retry-after ms for the rest, and what ran out. The whole
   * batch is one atomic script, so the limits hold across every gateway on this Redis exactly as if the requests had
   * come one by one.
   */
  static final String ACQUIRE = """
      local t = redis.call('TIME')
      local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
      local function level(key, cap)
        local v = redis.call('HMGET', key, 'v', 'ts')
        local val = tonumber(v[1])
        if val == nil then return cap end
        local ts = tonumber(v[2])
        return math.min(cap, val + math.max(0, now - ts) * cap / 60000)
      end
      local out = {}
      for i = 1, #ARGV / 3 do
        local rk, tk = KEYS[2 * i - 1], KEYS[2 * i]
        local rpm, tpm, n = tonumber(ARGV[3 * i - 2]), tonumber(ARGV[3 * i - 1]), tonumber(ARGV[3 * i])
        local allowed, wait, what = 0, 0, 'ok'
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
          if allowed > 0 then
            redis.call('HSET', rk, 'v', tostring(r - allowed), 'ts', now)
            redis.call('PEXPIRE', rk, 120000)
          end
          if allowed < n then
            wait, what = math.ceil((1 - (r - allowed)) * 60000 / rpm), 'requests'
          end
        end
        out[#out + 1] = allowed
        out[#out + 1] = wait
        out[#out + 1] = what
      end
      return out
      """;

  /** KEYS: tokens bucket. ARGV: tpm, tokens used. */
  static final String CHARGE = """
      local t = redis.call('TIME')
      local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
      local cap = tonumber(ARGV[1])
      local v = redis.call('HMGET', KEYS[1], 'v', 'ts')
      local val = tonumber(v[1])
      if val == nil then val = cap else val = math.min(cap, val + math.max(0, now - tonumber(v[2])) * cap / 60000) end
      redis.call('HSET', KEYS[1], 'v', tostring(val - tonumber(ARGV[2])), 'ts', now)
      redis.call('PEXPIRE', KEYS[1], 120000)
      return 1
      """;

  private static final String ACQUIRE_SHA = sha1(ACQUIRE);
  private static final String CHARGE_SHA = sha1(CHARGE);

  private final RedisLink redis;
  private final Map<Long, int[]> pendingCharges = new ConcurrentHashMap<>();
  private final long timerId;
  private final Vertx vertx;
  private final String prefix;
  private final Context context;
  private final long timeoutMs;
  private List<Pending> queue = new ArrayList<>();
  private boolean flushScheduled;

  public RedisRateLimiter(Vertx vertx, RedisLink redis, long flushMs, String prefix, long timeoutMs) {
    this.timeoutMs = timeoutMs;
    this.vertx = vertx;
    this.prefix = prefix;
    this.context = vertx.getOrCreateContext(); // the ingress verticle's event loop: the only caller
    this.redis = redis;
    this.timerId = vertx.setPeriodic(flushMs, id -> flushCharges());
  }

  String requestsKey(long keyId) {
    return prefix + ":rl:{" + keyId + "}:r";
  }

  String tokensKey(long keyId) {
    return prefix + ":rl:{" + keyId + "}:t";
  }

  @Override
  public Future<LimitDecision> acquire(long keyId, int rpm, int tpm) {
    Promise<LimitDecision> promise = Promise.promise();
    queue.add(new Pending(keyId, rpm, Math.max(tpm, 0), promise));
    if (!flushScheduled) {
      flushScheduled = true;
      context.runOnContext(v -> sendBatch()); // after the requests this event-loop turn is handling
    }
    return promise.future();
  }

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
    String[] args = new String[byKey.size() * 5];
    int k = 0;
    for (Long keyId : byKey.keySet()) {
      args[k++] = requestsKey(keyId);
      args[k++] = tokensKey(keyId);
    }
    for (List<Pending> requests : byKey.values()) {
      Pending last = requests.get(requests.size() - 1); // the newest limits, should a key change within the batch
      args[k++] = Integer.toString(last.rpm());
      args[k++] = Integer.toString(last.tpm());
      args[k++] = Integer.toString(requests.size());
    }
    // one timer per batch, on this event loop (Future.timeout would hand every call to Netty's global thread)
    long timer = vertx.setTimer(timeoutMs, id -> {
      TimeoutException late = new TimeoutException("Redis did not answer in " + timeoutMs + " ms");
      batch.forEach(p -> p.promise().tryFail(late));
    });
    evalsha(ACQUIRE_SHA, ACQUIRE, byKey.size() * 2, args).onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.failed()) {
        batch.forEach(p -> p.promise().tryFail(ar.cause()));
        return;
      }
      Response r = ar.result();
      int i = 0;
      for (List<Pending> requests : byKey.values()) {
        int allowed = r.get(3 * i).toInteger();
        LimitDecision refused = allowed >= requests.size() ? null
            : LimitDecision.refused(r.get(3 * i + 2).toString(), r.get(3 * i + 1).toLong());
        for (int j = 0; j < requests.size(); j++) {
          requests.get(j).promise().tryComplete(j < allowed ? LimitDecision.ALLOWED : refused);
        }
        i++;
      }
    });
  }

  @Override
  public void chargeTokens(long keyId, int tpm, int tokens) {
    if (tpm <= 0 || tokens <= 0) {
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

  /** Sends the charges gathered since the last flush in one pipelined batch. */
  public Future<Void> flushCharges() {
    if (pendingCharges.isEmpty()) {
      return Future.succeededFuture();
    }
    List<Request> batch = new ArrayList<>();
    for (Long keyId : List.copyOf(pendingCharges.keySet())) {
      int[] v = pendingCharges.remove(keyId);
      if (v != null) {
        batch.add(Request.cmd(Command.EVAL).arg(CHARGE).arg(1).arg(tokensKey(keyId)).arg(v[0]).arg(v[1]));
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
