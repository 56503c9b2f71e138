package io.inferencegateway.simulator;

import io.vertx.core.Context;

/**
 * Time and timers for the faithful engine: the verticle's event loop in a server, a hand-driven clock
 * in tests, so the engine's timing can be checked without sleeping.
 */
interface StepClock {

  long nanoTime();

  /** Runs {@code task} on the engine's thread after {@code delayNanos} (at once if not positive). */
  void after(long delayNanos, Runnable task);

  /** Timers of a Vert.x context, at millisecond resolution (rounded, so on average they are on time). */
  static StepClock of(Context context) {
    return new StepClock() {
      @Override
      public long nanoTime() {
        return System.nanoTime();
      }

      @Override
      public void after(long delayNanos, Runnable task) {
        long ms = (delayNanos + 500_000) / 1_000_000;
        if (ms <= 0) {
          context.runOnContext(v -> task.run());
        } else {
          context.owner().setTimer(ms, id -> task.run());
        }
      }
    };
  }
}
