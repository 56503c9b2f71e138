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

  @Test
  void aWholeAnswerGetsTimeForItsTokensAndTheTimeoutIsNoted() {
    Watchdog scaled = new Watchdog(100_000, 3_000, 2_000, 10, 500, now::get);
    AtomicReference<Throwable> reset = new AtomicReference<>();
    ProxyExchange ex = new ProxyExchange(null, Operation.CHAT, 0);
    now.set(0);
    ex.parsed = new ParsedRequest(null, false, false, null, null, null, 2_000, false);
    ex.upstream = Fake.of(HttpClientRequest.class).on("reset", args -> {
      reset.set((Throwable) args[1]);
      return null;
    }).get();
    scaled.watch(ex);
    assertThat(scaled.firstByteTimeoutNanos(ex)).as("3 s + 2000 tokens x 10 ms").isEqualTo(23_000 * MS);
    now.set(23_000 * MS);
    assertThat(scaled.sweep()).isZero();
    now.set(23_001 * MS);
    assertThat(scaled.sweep()).isEqualTo(1);
    assertThat(ex.timedOut).isEqualTo("no answer from the model server within 23000 ms");
    scaled.watch(ex);
    assertThat(ex.timedOut).as("cleared for the next attempt").isNull();

    ex.parsed = new ParsedRequest(null, false, false, null, null, null, -1, false);
    assertThat(scaled.firstByteTimeoutNanos(ex)).as("no max_tokens: the estimate").isEqualTo(8_000 * MS);
    ex.parsed = new ParsedRequest(null, false, false, null, null, null, 50_000_000, false);
    assertThat(scaled.firstByteTimeoutNanos(ex)).as("at most the total time").isEqualTo(100_000 * MS);
    ex.parsed = new ParsedRequest(null, true, false, null, null, null, 2_000, false);
    assertThat(scaled.firstByteTimeoutNanos(ex)).as("a stream's first event comes early").isEqualTo(3_000 * MS);
  }

  @Test
  void aClientThatStopsReadingDoesNotMakeTheReplicaIdle() {
    Sent s = sent(0);
    s.ex().markData(1_000 * MS);
    s.ex().clientPaused = true; // the relay paused the answer: the client's connection is full
    now.set(9_000 * MS);
    assertThat(watchdog.sweep()).isZero();
    now.set(10_001 * MS);
    assertThat(watchdog.sweep()).as("the total time still counts").isEqualTo(1);
    assertThat(s.reset().get()).hasMessage("total request time exceeded");
  }
}
