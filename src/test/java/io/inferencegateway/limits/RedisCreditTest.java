package io.inferencegateway.limits;

import io.inferencegateway.support.Poll;
import io.inferencegateway.support.TestServices;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Prefetched credit against a real Redis: busy keys with large limits skip the round trip, the limit still holds
 * across instances, and credit that is not used goes back to the shared bucket.
 */
class RedisCreditTest {

  Vertx vertx;
  RedisLink link;
  String prefix;
  /** The limiters' clock (credit lifetimes, bucket refills): time moves only when a test says so. */
  final AtomicLong now = new AtomicLong(1_000_000_000L);

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    link = new RedisLink(vertx, TestServices.redisUrl(), 1000);
    prefix = "igw-test-" + UUID.randomUUID();
  }

  @AfterEach
  void tearDown() {
    link.close().await();
    vertx.close().await();
  }

  /** A limiter living on its own event loop, as each ingress verticle's does. */
  final class OnLoop {
    final Context context = vertx.getOrCreateContext();
    final RedisRateLimiter limiter;

    OnLoop(long creditTtlMs) {
      limiter = run(() -> Future.succeededFuture(
          new RedisRateLimiter(vertx, link, 50, prefix, 2000, 0.01, creditTtlMs, now::get)));
    }

    <T> T run(Supplier<Future<T>> action) {
      Promise<T> done = Promise.promise();
      context.runOnContext(v -> action.get().onComplete(done));
      return done.future().await();
    }
  }

  /**
   * Two checks of a key, as a busy key makes: the first only marks it as seen, the second also takes a credit of 1% of
   * the limit. Returns the bucket level Redis stored then.
   */
  double primed(OnLoop loop, long keyId, int rpm, int tpm) {
    assertThat(loop.run(() -> loop.limiter.acquire(keyId, rpm, tpm)).allowed()).isTrue();
    double afterFirst = bucketLevel(keyId);
    assertThat(afterFirst).as("no credit with a key's first check").isEqualTo(rpm - 1);
    assertThat(loop.run(() -> loop.limiter.acquire(keyId, rpm, tpm)).allowed()).isTrue();
    double level = bucketLevel(keyId);
    assertThat(level).as("the second check takes one request and a credit of 1%").isEqualTo(afterFirst - 1 - rpm / 100.0);
    return level;
  }

  double bucketLevel(long keyId) {
    Response v = link.send(Request.cmd(Command.HGET).arg(prefix + ":rl:{" + keyId + "}:r").arg("v")).await();
    return v == null ? Double.NaN : Double.parseDouble(v.toString());
  }

  @Test
  void aBusyKeySpendsItsCreditWithoutWaitingForRedis() {
    OnLoop loop = new OnLoop(60_000);
    double primed = primed(loop, 5, 10_000, 0); // a credit of 100

    List<Boolean> decidedAtOnce = loop.run(() -> {
      List<Boolean> out = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        Future<LimitDecision> d = loop.limiter.acquire(5, 10_000, 0);
        out.add(d.succeeded() && d.result().allowed());
      }
      return Future.succeededFuture(out);
    });
    assertThat(decidedAtOnce).hasSize(40).containsOnly(true);
    // 40 of 100 spent: no top-up yet, so Redis has not been asked again
    assertThat(bucketLevel(5)).isEqualTo(primed);

    // past half of the credit a top-up refills it in the background (the level drops by what was spent since)
    loop.run(() -> {
      for (int i = 0; i < 20; i++) {
        loop.limiter.acquire(5, 10_000, 0);
      }
      return Future.succeededFuture();
    });
    awaitLevel(5, level -> level == 10_000 - 2 - 100 - 60, "the top-up to take 60 more");
  }

  @Test
  void twoInstancesWithCreditNeverLetMoreThanTheLimitThrough() {
    OnLoop a = new OnLoop(60_000);
    OnLoop b = new OnLoop(60_000);
    int rpm = 600; // credit of 6 per instance
    int allowed = 0;
    for (int round = 0; round < 100; round++) {
      for (OnLoop loop : List.of(a, b)) {
        List<LimitDecision> decisions = loop.run(() -> {
          List<Future<LimitDecision>> all = new ArrayList<>();
          for (int i = 0; i < 5; i++) {
            all.add(loop.limiter.acquire(8, rpm, 0));
          }
          return Future.all(all).map(f -> f.<LimitDecision>list());
        });
        allowed += (int) decisions.stream().filter(LimitDecision::allowed).count();
      }
    }
    // credit comes out of the shared bucket: never more than the limit passes (the clock stood still) ...
    assertThat(allowed).isLessThanOrEqualTo(rpm);
    // ... and at most one credit per instance (and a fraction of a request) is left unspent when the bucket runs dry
    assertThat(allowed).isGreaterThanOrEqualTo(rpm - 2 * 6 - 1);
  }

  @Test
  void creditThatIsNotUsedGoesBackToTheBucket() {
    OnLoop loop = new OnLoop(200);
    // a bucket half used this minute, so what comes back is not hidden by the bucket's cap
    link.send(Request.cmd(Command.HSET).arg(prefix + ":rl:{6}:r").arg("v").arg("5000").arg("ts").arg(now.get())).await();
    loop.run(() -> loop.limiter.acquire(6, 10_000, 0));
    loop.run(() -> loop.limiter.acquire(6, 10_000, 0)); // and a credit of 100
    assertThat(bucketLevel(6)).isEqualTo(5000 - 2 - 100);
    loop.run(() -> loop.limiter.flushCharges());
    assertThat(bucketLevel(6)).as("kept while the key may still use it").isEqualTo(5000 - 2 - 100);
    now.addAndGet(201); // quiet for the credit's lifetime: the next flush gives the 100 back
    awaitLevel(6, level -> level == 5000 - 2 + 201 * 10_000 / 60_000.0, "the unused credit, refilled for 201 ms");
  }

  @Test
  void closingGivesCreditBack() {
    OnLoop loop = new OnLoop(60_000);
    primed(loop, 7, 10_000, 0);
    loop.run(() -> loop.limiter.close());
    assertThat(bucketLevel(7)).isBetween(10_000.0 - 2, 10_000.0);
  }

  @Test
  void aKeyOutOfTokensLosesItsCreditAtTheNextTopUp() {
    OnLoop loop = new OnLoop(60_000);
    primed(loop, 9, 10_000, 50); // a credit of 100
    loop.run(() -> {
      loop.limiter.chargeTokens(9, 50, 80); // the tokens of the key's minute are spent
      return loop.limiter.flushCharges();
    });
    int admittedAfter = 0;
    LimitDecision refused = null;
    for (int i = 0; i < 300 && refused == null; i++) {
      LimitDecision d = loop.run(() -> loop.limiter.acquire(9, 10_000, 50));
      if (d.allowed()) {
        admittedAfter++;
      } else {
        refused = d;
      }
    }
    assertThat(refused).isNotNull();
    assertThat(refused.limit()).isEqualTo("tokens");
    // what the credit held when the tokens ran out, at most: the top-up at half of it notices and drops the rest
    assertThat(admittedAfter).isLessThanOrEqualTo(100);
  }

  @Test
  void spendingCreditWhileRedisIsDownDoesNotMarkRedisAsBack() throws InterruptedException {
    java.net.URI redis = java.net.URI.create(TestServices.redisUrl());
    io.inferencegateway.support.TcpProxy proxy =
        new io.inferencegateway.support.TcpProxy(vertx, redis.getHost(), redis.getPort() < 0 ? 6379 : redis.getPort())
            .start();
    RedisLink viaProxy = new RedisLink(vertx, "redis://127.0.0.1:" + proxy.port(), 200);
    Context context = vertx.getOrCreateContext();
    try {
      ResilientRateLimiter limiter = onContext(context, () -> Future.succeededFuture(new ResilientRateLimiter(
          new RedisRateLimiter(vertx, viaProxy, 50, prefix, 200, 0.01, 60_000, now::get), new LocalRateLimiter(now::get),
          "local", new io.micrometer.core.instrument.simple.SimpleMeterRegistry().counter("failures"), now::get)));
      onContext(context, () -> limiter.acquire(1, 10_000, 0));
      assertThat(onContext(context, () -> limiter.acquire(1, 10_000, 0)).allowed()).isTrue(); // and a credit of 100
      proxy.stop();
      onContext(context, () -> limiter.acquire(2, 10_000, 0)); // a key without credit finds Redis gone
      assertThat(limiter.isDown()).isTrue();
      now.addAndGet(1001); // past the pause after a failure: the next checks go to the Redis limiter again
      assertThat(onContext(context, () -> limiter.acquire(1, 10_000, 0)).allowed()).isTrue(); // spent from credit
      assertThat(limiter.isDown()).as("credit spent locally proves nothing about Redis").isTrue();
    } finally {
      proxy.stop();
      viaProxy.close().await();
    }
  }

  static <T> T onContext(Context context, Supplier<Future<T>> action) {
    Promise<T> done = Promise.promise();
    context.runOnContext(v -> action.get().onComplete(done));
    return done.future().await();
  }

  void awaitLevel(long keyId, java.util.function.DoublePredicate ok, String what) {
    Poll.value(what, Duration.ofSeconds(10), () -> bucketLevel(keyId), ok::test);
  }
}
