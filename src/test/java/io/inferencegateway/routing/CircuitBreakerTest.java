package io.inferencegateway.routing;

import io.inferencegateway.config.GatewayConfig;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The breaker's state machine on explicit time, no sleeping. */
class CircuitBreakerTest {

  static final GatewayConfig.Breaker SETTINGS = new GatewayConfig.Breaker(3, 0.5, 10, 6, 1000, 8000, 0.2);
  final List<String> changes = new ArrayList<>();

  CircuitBreaker breaker(double random) {
    CircuitBreaker b = new CircuitBreaker(SETTINGS, () -> random);
    b.listener((from, to, reason) -> changes.add(from + "->" + to));
    return b;
  }

  @Test
  void opensAfterConsecutiveFailuresAndProbesAfterTheCoolDown() {
    CircuitBreaker b = breaker(0.5); // no jitter
    b.onFailure(0, false, "500");
    b.onFailure(10, false, "500");
    assertThat(b.state()).isEqualTo(CircuitBreaker.State.CLOSED);
    b.onFailure(20, false, "500");
    assertThat(b.state()).isEqualTo(CircuitBreaker.State.OPEN);
    assertThat(b.mayAllow(500)).isFalse();
    assertThat(b.tryAcquire(1019)).isFalse();
    assertThat(b.tryAcquire(1020)).isTrue(); // the probe
    assertThat(b.state()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
    assertThat(b.tryAcquire(1021)).as("one probe at a time").isFalse();
    b.onSuccess();
    assertThat(b.state()).isEqualTo(CircuitBreaker.State.CLOSED);
    assertThat(changes).containsExactly("CLOSED->OPEN", "OPEN->HALF_OPEN", "HALF_OPEN->CLOSED");
  }

  @Test
  void successesInBetweenResetTheConsecutiveCountButNotTheRatio() {
    CircuitBreaker b = breaker(0.5);
    for (int i = 0; i < 3; i++) {
      b.onFailure(i, false, "500");
      b.onSuccess();
    }
    assertThat(b.state()).as("never more than one failure in a row").isEqualTo(CircuitBreaker.State.CLOSED);
    b.onFailure(10, false, "500");
    // 4 failures of 7 calls: the 50% ratio over at least 6 calls trips it
    assertThat(b.state()).isEqualTo(CircuitBreaker.State.OPEN);
  }

  @Test
  void aSingleSevereFailureOpensAtOnce() {
    CircuitBreaker b = breaker(0.5);
    b.onFailure(0, true, "connect refused");
    assertThat(b.state()).isEqualTo(CircuitBreaker.State.OPEN);
  }

  @Test
  void aFailedProbeDoublesTheCoolDownUpToTheMaximum() {
    CircuitBreaker b = breaker(0.5);
    b.onFailure(0, true, "timeout");
    long t = 1000;
    long[] expectedOpen = {2000, 4000, 8000, 8000};
    for (long open : expectedOpen) {
      assertThat(b.tryAcquire(t)).isTrue();
      b.onFailure(t, true, "timeout");
      assertThat(b.openUntilMs()).isEqualTo(t + open);
      t += open;
    }
  }

  @Test
  void jitterSpreadsTheCoolDown() {
    CircuitBreaker low = breaker(0.0);
    CircuitBreaker high = breaker(1.0);
    low.onFailure(0, true, "x");
    high.onFailure(0, true, "x");
    assertThat(low.openUntilMs()).isEqualTo(800);
    assertThat(high.openUntilMs()).isEqualTo(1200);
  }

  @Test
  void healthRecoveryEndsTheCoolDownAndAReleasedProbeCanBeRetaken() {
    CircuitBreaker b = breaker(0.5);
    b.onFailure(0, true, "down");
    b.healthRecovered(100);
    assertThat(b.tryAcquire(100)).isTrue();
    b.release();
    assertThat(b.tryAcquire(101)).isTrue();
  }
}
