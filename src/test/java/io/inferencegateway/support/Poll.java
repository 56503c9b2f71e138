package io.inferencegateway.support;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The one way tests wait for something that happens in the background (a usage row written, a breaker opening):
 * poll often, give up late. The deadline only bounds a failing test; no test asserts on how long something took.
 */
public final class Poll {

  private static final long EVERY_MS = 20;

  private Poll() {}

  /** Waits until {@code condition} holds; fails with {@code what} after {@code timeout}. */
  public static void until(String what, Duration timeout, BooleanSupplier condition) {
    value(what, timeout, () -> condition.getAsBoolean(), ok -> ok);
  }

  /** Whether {@code condition} comes to hold within {@code timeout}; for tests that assert on the answer. */
  public static boolean within(Duration timeout, BooleanSupplier condition) {
    try {
      until("condition", timeout, condition);
      return true;
    } catch (AssertionError timedOut) {
      return false;
    }
  }

  /**
   * Reads {@code read} until {@code done} accepts its value, and returns that value; fails with {@code what} and the
   * last value after {@code timeout}.
   */
  public static <T> T value(String what, Duration timeout, Supplier<T> read, Predicate<T> done) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      T value = read.get();
      if (done.test(value)) {
        return value;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting: " + what
            + " (last seen: " + value + ")");
      }
      try {
        Thread.sleep(EVERY_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting: " + what, e);
      }
    }
  }
}
