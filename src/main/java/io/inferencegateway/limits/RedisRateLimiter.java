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
   * Checks a batch of requests in one call. KEYS: for each request its requests bucket and tokens bucket. ARGV: for
   * each request its rpm and tpm (0 = none). Returns, for each request in order, allowed (1/0), retry-after ms, and
   * what ran out. The whole batch is one atomic script, so the limits hold across every gateway on this Redis.
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
      for i = 1, #ARGV / 2 do
        local rk, tk = KEYS[2 * i - 1], KEYS[2 * i]
        local rpm, tpm = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
        local allowed, wait, what = 1, 0, 'ok'
        if tpm > 0 then
          local tl = level(tk, tpm)
          if tl <= 0 then allowed, wait, what = 0, math.ceil((1 - tl) * 60000 / tpm), 'tokens' end
        end
        if allowed == 1 then
          local r = level(rk, rpm)
          if r < 1 then
            allowed, wait, what = 0, math.ceil((1 - r) * 60000 / rpm), 'requests'
          else
            redis.call('HSET', rk, 'v', tostring(r - 1), 'ts', now)
            redis.call('PEXPIRE', rk, 120000)
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
    String[] args = new String[batch.size() * 4];
    int k = 0;
    for (Pending p : batch) {
      args[k++] = requestsKey(p.keyId());
      args[k++] = tokensKey(p.keyId());
    }
    for (Pending p : batch) {
      args[k++] = Integer.toString(p.rpm());
      args[k++] = Integer.toString(p.tpm());
    }
    // one timer per batch, on this event loop (Future.timeout would hand every call to Netty's global thread)
    long timer = vertx.setTimer(timeoutMs, id -> {
      TimeoutException late = new TimeoutException("Redis did not answer in " + timeoutMs + " ms");
      batch.forEach(p -> p.promise().tryFail(late));
    });
    evalsha(ACQUIRE_SHA, ACQUIRE, batch.size() * 2, args).onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.failed()) {
        batch.forEach(p -> p.promise().tryFail(ar.cause()));
        return;
      }
      Response r = ar.result();
      for (int i = 0; i < batch.size(); i++) {
        batch.get(i).promise().tryComplete(r.get(3 * i).toInteger() == 1 ? LimitDecision.ALLOWED
            : LimitDecision.refused(r.get(3 * i + 2).toString(), r.get(3 * i + 1).toLong()));
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
