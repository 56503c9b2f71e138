package io.inferencegateway.limits;

import io.inferencegateway.support.TestServices;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** The Redis limiter against a real Redis: checks queued in one event-loop turn go as one batch, exactly. */
class RedisRateLimiterTest {

  Vertx vertx;
  RedisLink link;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    link = new RedisLink(vertx, TestServices.redisUrl(), 1000);
  }

  @AfterEach
  void tearDown() {
    link.close().await();
    vertx.close().await();
  }

  /** Runs the acquires inside one turn of one event loop, as the ingress does under load. */
  List<LimitDecision> acquireInOneTurn(int[][] calls) {
    Promise<List<LimitDecision>> done = Promise.promise();
    vertx.getOrCreateContext().runOnContext(v -> {
      RedisRateLimiter limiter = new RedisRateLimiter(vertx, link, 50, "igw-test-" + UUID.randomUUID(), 10_000, 0.01, 1000);
      List<Future<LimitDecision>> all = new ArrayList<>();
      for (int[] c : calls) {
        all.add(limiter.acquire(c[0], c[1], c[2]));
      }
      Future.all(all).map(f -> f.<LimitDecision>list()).onComplete(done);
    });
    return done.future().await();
  }

  @Test
  void aBatchOfOneKeyLetsExactlyItsAllowanceThroughAndKeysStayApart() {
    int[][] calls = new int[25][];
    for (int i = 0; i < 25; i++) {
      calls[i] = i % 5 == 4 ? new int[] {2, 100, 0} : new int[] {1, 10, 0}; // 20 for key 1 (limit 10), 5 for key 2
    }
    List<LimitDecision> d = acquireInOneTurn(calls);
    long key1Allowed = 0;
    long key2Allowed = 0;
    for (int i = 0; i < d.size(); i++) {
      if (calls[i][0] == 1) {
        key1Allowed += d.get(i).allowed() ? 1 : 0;
      } else {
        key2Allowed += d.get(i).allowed() ? 1 : 0;
      }
    }
    assertThat(key1Allowed).isEqualTo(10);
    assertThat(key2Allowed).isEqualTo(5);
    LimitDecision refused = d.stream().filter(x -> !x.allowed()).findFirst().orElseThrow();
    assertThat(refused.limit()).isEqualTo("requests");
    assertThat(refused.retryAfterMs()).isBetween(1L, 6000L); // one request at 10 rpm refills in 6 s
  }

  @Test
  void aKeyOutOfTokensIsRefusedForTokens() {
    Promise<LimitDecision> done = Promise.promise();
    vertx.getOrCreateContext().runOnContext(v -> {
      RedisRateLimiter limiter = new RedisRateLimiter(vertx, link, 10, "igw-test-" + UUID.randomUUID(), 10_000, 0.01, 1000);
      limiter.acquire(9, 100, 50)
          .compose(first -> {
            limiter.chargeTokens(9, 50, 80);
            return limiter.flushCharges();
          })
          .compose(x -> limiter.acquire(9, 100, 50))
          .onComplete(done);
    });
    LimitDecision d = done.future().await();
    assertThat(d.allowed()).isFalse();
    assertThat(d.limit()).isEqualTo("tokens");
  }
}
