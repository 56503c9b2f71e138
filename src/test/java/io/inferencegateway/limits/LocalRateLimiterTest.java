package io.inferencegateway.limits;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The in-process limiter on a fake clock: bursts, refill, and tokens charged after the fact. */
class LocalRateLimiterTest {

  final AtomicLong now = new AtomicLong(1_000_000);
  final LocalRateLimiter limiter = new LocalRateLimiter(now::get);

  @Test
  void aMinutesAllowanceThenRefillAtTheSameRate() {
    for (int i = 0; i < 60; i++) {
      assertThat(limiter.decide(1, 60, 0).allowed()).isTrue();
    }
    LimitDecision refused = limiter.decide(1, 60, 0);
    assertThat(refused.allowed()).isFalse();
    assertThat(refused.limit()).isEqualTo("requests");
    assertThat(refused.retryAfterMs()).isBetween(900L, 1000L);
    now.addAndGet(1000); // one request's worth at 60 rpm
    assertThat(limiter.decide(1, 60, 0).allowed()).isTrue();
    assertThat(limiter.decide(1, 60, 0).allowed()).isFalse();
    assertThat(limiter.decide(2, 60, 0).allowed()).as("keys are independent").isTrue();
  }

  @Test
  void tokensUsedBlockTheKeyUntilTheyRefill() {
    assertThat(limiter.decide(7, 1000, 600).allowed()).isTrue();
    limiter.chargeTokens(7, 600, 900); // one big answer: 300 over the allowance
    LimitDecision refused = limiter.decide(7, 1000, 600);
    assertThat(refused.allowed()).isFalse();
    assertThat(refused.limit()).isEqualTo("tokens");
    now.addAndGet(30_000); // half a minute refills 300
    assertThat(limiter.decide(7, 1000, 600).allowed()).isFalse();
    now.addAndGet(200);
    assertThat(limiter.decide(7, 1000, 600).allowed()).isTrue();
  }
}
