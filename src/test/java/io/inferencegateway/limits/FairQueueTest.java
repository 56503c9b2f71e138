package io.inferencegateway.limits;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The admission queue's order: priority classes, then weighted fair share across keys; times are the test's. */
class FairQueueTest {

  static List<String> drain(FairQueue<String> q) {
    List<String> out = new ArrayList<>();
    for (FairQueue.Entry<String> e = q.poll(); e != null; e = q.poll()) {
      out.add(e.item());
    }
    return out;
  }

  @Test
  void aLightKeyArrivingBehindABurstGoesNextNotLast() {
    FairQueue<String> q = new FairQueue<>();
    long now = 1_000;
    for (int i = 0; i < 100; i++) {
      q.add("heavy" + i, 1, 5, 1, now);
    }
    assertThat(q.poll().item()).isEqualTo("heavy0");
    q.add("light", 2, 5, 1, now + 10);
    assertThat(q.poll().item()).as("within one round, not after 99 heavy requests").isEqualTo("light");
    assertThat(drain(q)).hasSize(99);
    assertThat(q.isEmpty()).isTrue();
  }

  @Test
  void pollExceptPassesOverAHeldKeyWithinItsScanAndKeepsTheRest() {
    FairQueue<String> q = new FairQueue<>();
    for (int i = 0; i < 100; i++) {
      q.add("heavy" + i, 1, 5, 1, 0);
    }
    assertThat(q.pollExcept(key -> key == 1, 64)).as("only the held key waits").isNull();
    q.add("light", 2, 5, 1, 0);
    assertThat(q.pollExcept(key -> key == 1, 64).item()).as("found behind the heavy backlog").isEqualTo("light");
    assertThat(q.size()).isEqualTo(100);
    assertThat(q.queued(2)).isZero();
    assertThat(q.pollExcept(key -> false, 64).item()).as("nothing held: the head").isEqualTo("heavy0");
    FairQueue<String> deep = new FairQueue<>();
    for (int i = 0; i < 10; i++) {
      deep.add("heavy" + i, 1, 9, 1, 0);
    }
    deep.add("low", 2, 1, 1, 0);
    assertThat(deep.pollExcept(key -> key == 1, 5)).as("beyond the scan").isNull();
    assertThat(deep.pollExcept(key -> key == 1, 11).item()).as("a lower class, after the held higher one").isEqualTo("low");
  }

  @Test
  void twoBusyKeysAlternateAndWeightsSetTheShares() {
    FairQueue<String> q = new FairQueue<>();
    for (int i = 0; i < 6; i++) {
      q.add("a" + i, 1, 5, 1, 0);
      q.add("b" + i, 2, 5, 2, 0); // weight 2: two of b for each a
    }
    List<String> first9 = drain(q).subList(0, 9);
    assertThat(first9.stream().filter(s -> s.startsWith("a")).count()).isEqualTo(3);
    assertThat(first9.stream().filter(s -> s.startsWith("b")).count()).isEqualTo(6);
  }

  @Test
  void aHigherPriorityClassAlwaysGoesFirstAndOrderWithinAKeyIsKept() {
    FairQueue<String> q = new FairQueue<>();
    q.add("low1", 1, 1, 1, 0);
    q.add("low2", 1, 1, 1, 1);
    q.add("high1", 2, 9, 1, 2);
    q.add("mid1", 3, 5, 1, 3);
    q.add("high2", 2, 9, 1, 4);
    assertThat(q.peek().item()).isEqualTo("high1");
    assertThat(drain(q)).containsExactly("high1", "high2", "mid1", "low1", "low2");
  }

  @Test
  void removedEntriesLeaveAtOnceAndCountsFollow() {
    FairQueue<String> q = new FairQueue<>();
    FairQueue.Entry<String> gone = q.add("x", 7, 5, 1, 100);
    q.add("y", 7, 5, 1, 150);
    assertThat(gone.enqueuedAtMs()).isEqualTo(100);
    assertThat(q.queued(7)).isEqualTo(2);
    assertThat(q.remove(gone)).isTrue();
    assertThat(q.remove(gone)).as("only once").isFalse();
    assertThat(gone.queued()).isFalse();
    assertThat(q.size()).isEqualTo(1);
    assertThat(q.queued(7)).isEqualTo(1);
    FairQueue.Entry<String> next = q.poll();
    assertThat(next.item()).isEqualTo("y");
    assertThat(q.remove(next)).as("already polled").isFalse();
    assertThat(q.poll()).isNull();
  }

  @Test
  void aKeyThatWentIdleGetsNoCreditForTheTimeItWasAway() {
    FairQueue<String> q = new FairQueue<>();
    q.add("a0", 1, 5, 1, 0);
    q.poll();
    for (int i = 0; i < 5; i++) {
      q.add("b" + i, 2, 5, 1, 10);
    }
    q.poll();
    q.poll();
    // key 1 comes back after b ran alone: it joins the round now, it does not jump ahead of all of b's backlog
    // forever, nor wait behind it
    q.add("a1", 1, 5, 1, 20);
    q.add("a2", 1, 5, 1, 20);
    List<String> order = drain(q);
    assertThat(order.indexOf("a1")).isLessThanOrEqualTo(1);
    assertThat(order.indexOf("a2")).isLessThanOrEqualTo(3);
  }
}
