package io.inferencegateway.limits;

import io.vertx.core.Future;
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
import java.util.concurrent.ConcurrentHashMap;

/**
 * Limits shared by every gateway instance on one Redis: one atomic script call per request (token buckets, the same
 * arithmetic as {@link TokenBucket}, on Redis's clock so instances agree). Tokens used are charged after the answer,
 * gathered per key and sent in one pipelined batch every {@code flushMs}.
 */
public final class RedisRateLimiter implements RateLimiter {

  /** KEYS: requests bucket, tokens bucket. ARGV: rpm, tpm (0 = none). Returns {allowed, retryAfterMs, limit}. */
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
      local rpm = tonumber(ARGV[1])
      local tpm = tonumber(ARGV[2])
      if tpm > 0 then
        local tk = level(KEYS[2], tpm)
        if tk <= 0 then return {0, math.ceil((1 - tk) * 60000 / tpm), 'tokens'} end
      end
      local r = level(KEYS[1], rpm)
      if r < 1 then return {0, math.ceil((1 - r) * 60000 / rpm), 'requests'} end
      redis.call('HSET', KEYS[1], 'v', tostring(r - 1), 'ts', now)
      redis.call('PEXPIRE', KEYS[1], 120000)
      return {1, 0, 'ok'}
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

  public RedisRateLimiter(Vertx vertx, RedisLink redis, long flushMs, String prefix) {
    this.vertx = vertx;
    this.prefix = prefix;
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
    return evalsha(ACQUIRE_SHA, ACQUIRE, 2, requestsKey(keyId), tokensKey(keyId), Integer.toString(rpm),
        Integer.toString(Math.max(tpm, 0)))
        .map(r -> r.get(0).toInteger() == 1 ? LimitDecision.ALLOWED
            : LimitDecision.refused(r.get(2).toString(), r.get(1).toLong()));
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
