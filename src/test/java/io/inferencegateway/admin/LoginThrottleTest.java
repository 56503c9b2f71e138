package io.inferencegateway.admin;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The login throttle's arithmetic, on a fake clock. */
class LoginThrottleTest {

  final AtomicLong now = new AtomicLong(1_000_000);
  final LoginThrottle throttle = new LoginThrottle(3, 1000, 8000, 60_000, 4, now::get);

  @Test
  void freeAttemptsThenADelayThatDoublesUpToTheCap() {
    for (int i = 0; i < 3; i++) {
      assertThat(throttle.failure("a")).isZero();
      assertThat(throttle.retryAfterMs("a")).isZero();
    }
    long[] expected = {1000, 2000, 4000, 8000, 8000, 8000};
    for (long delay : expected) {
      assertThat(throttle.failure("a")).isEqualTo(delay);
      assertThat(throttle.retryAfterMs("a")).isEqualTo(delay);
      now.addAndGet(delay / 2);
      assertThat(throttle.retryAfterMs("a")).isEqualTo(delay - delay / 2);
      now.addAndGet(delay - delay / 2);
      assertThat(throttle.retryAfterMs("a")).isZero();
    }
    assertThat(throttle.retryAfterMs("b")).as("per address").isZero();
  }

  @Test
  void aSuccessResetsTheAddress() {
    for (int i = 0; i < 4; i++) {
      throttle.failure("a");
    }
    now.addAndGet(1000);
    throttle.success("a");
    assertThat(throttle.failure("a")).as("free again").isZero();
  }

  @Test
  void failuresAreForgottenAfterAQuietWindowAndMemoryIsBounded() {
    for (int i = 0; i < 4; i++) {
      throttle.failure("a");
    }
    now.addAndGet(61_001);
    assertThat(throttle.retryAfterMs("a")).isZero();
    assertThat(throttle.failure("a")).as("counting starts over").isZero();
    for (int i = 0; i < 10; i++) {
      throttle.failure("addr-" + i);
    }
    assertThat(throttle.size()).isLessThanOrEqualTo(4);
  }

  @Test
  void aHugeFailureCountStaysAtTheCap() {
    for (int i = 0; i < 200; i++) {
      throttle.failure("a");
    }
    assertThat(throttle.retryAfterMs("a")).isEqualTo(8000);
  }
}
