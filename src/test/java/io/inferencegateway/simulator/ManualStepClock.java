package io.inferencegateway.simulator;

import java.util.PriorityQueue;

/** A {@link StepClock} the test moves: timers run only when asked, and time jumps to each one's due time. */
final class ManualStepClock implements StepClock {

  private record Timer(long due, long order, Runnable task) {
  }

  private final PriorityQueue<Timer> timers = new PriorityQueue<>(
      (a, b) -> a.due != b.due ? Long.compare(a.due, b.due) : Long.compare(a.order, b.order));
  private long now = 1_000_000_000L;
  private long order;

  @Override
  public long nanoTime() {
    return now;
  }

  @Override
  public void after(long delayNanos, Runnable task) {
    timers.add(new Timer(now + Math.max(0, delayNanos), order++, task));
  }

  /** Moves the clock forward without running timers (an arrival some time later). */
  void advance(long nanos) {
    if (!timers.isEmpty() && timers.peek().due < now + nanos) {
      throw new IllegalStateException("a timer is due before that; run it first");
    }
    now += nanos;
  }

  /** Runs the next timer (one engine step); false when none is pending. */
  boolean runNext() {
    Timer t = timers.poll();
    if (t == null) {
      return false;
    }
    now = Math.max(now, t.due);
    t.task.run();
    return true;
  }

  /** Runs timers until none is pending; returns how many ran. */
  int runAll() {
    int n = 0;
    while (runNext()) {
      if (++n > 1_000_000) {
        throw new IllegalStateException("the engine never goes idle");
      }
    }
    return n;
  }

  int pending() {
    return timers.size();
  }
}
