package io.inferencegateway.ingress;

import io.inferencegateway.support.Fake;
import io.vertx.core.http.HttpClientRequest;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** The per-event-loop request timers, swept on an injected clock. */
class WatchdogTest {

  static final long MS = 1_000_000;
  final AtomicLong now = new AtomicLong(0);
  final Watchdog watchdog = new Watchdog(10_000, 3_000, 2_000, now::get);

  record Sent(ProxyExchange ex, AtomicReference<Throwable> reset) {}

  Sent sent(long startMs) {
    AtomicReference<Throwable> reset = new AtomicReference<>();
    ProxyExchange ex = new ProxyExchange(null, Operation.CHAT, startMs * MS);
    now.set(startMs * MS);
    ex.upstream = Fake.of(HttpClientRequest.class).on("reset", args -> {
      reset.set((Throwable) args[1]);
      return null;
    }).get();
    watchdog.watch(ex);
    return new Sent(ex, reset);
  }

  @Test
  void aRequestPastItsTotalTimeIsReset() {
    Sent s = sent(0);
    s.ex().markData(9_000 * MS); // an answer streaming along
    now.set(10_000 * MS);
    assertThat(watchdog.sweep()).isZero();
    s.ex().markData(9_999 * MS);
    now.set(10_001 * MS);
    assertThat(watchdog.sweep()).isEqualTo(1);
    assertThat(s.reset().get()).isInstanceOf(TimeoutException.class).hasMessage("total request time exceeded");
  }

  @Test
  void aReplicaThatSendsNothingIsResetAfterTheFirstByteTimeoutOfEachAttempt() {
    Sent s = sent(0);
    now.set(3_000 * MS);
    assertThat(watchdog.sweep()).isZero();
    now.set(3_001 * MS);
    assertThat(watchdog.sweep()).isEqualTo(1);
    assertThat(s.reset().get()).hasMessage("no answer from the model server within 3000 ms");
    watchdog.watch(s.ex()); // the next attempt, on another replica, has its own three seconds
    now.set(6_001 * MS);
    s.reset().set(null);
    assertThat(watchdog.sweep()).isZero();
    now.set(6_002 * MS);
    assertThat(watchdog.sweep()).isEqualTo(1);
  }

  @Test
  void aQuietAnswerIsResetOnlyOnceItStarted() {
    Sent s = sent(0);
    now.set(2_500 * MS);
    assertThat(watchdog.sweep()).as("the idle timeout starts with the answer").isZero();
    now.set(5_000 * MS);
    s.ex().markData(5_000 * MS);
    now.set(7_000 * MS);
    assertThat(watchdog.sweep()).isZero();
    now.set(7_001 * MS);
    assertThat(watchdog.sweep()).isEqualTo(1);
    assertThat(s.reset().get()).hasMessage("no data from the model server for 2000 ms");
  }

  @Test
  void anEndedRequestIsNoLongerWatched() {
    Sent s = sent(0);
    watchdog.unwatch(s.ex());
    now.set(60_000 * MS);
    assertThat(watchdog.sweep()).isZero();
    assertThat(watchdog.watching()).isZero();
    assertThat(s.reset().get()).isNull();
  }
}
