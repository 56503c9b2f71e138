package io.inferencegateway.scheduler;

import io.vertx.core.Vertx;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Calls a job at each time of a {@link CronSchedule}, on the context that started it (a verticle's event loop).
 * It wakes at least once a minute and compares with the clock, so a wall-clock step (NTP, a suspended VM) shifts the
 * next run by at most a minute instead of by the size of the step. A time missed while the process was down is not
 * made up.
 */
public final class CronTimer {

  static final long MAX_SLEEP_MS = 60_000;

  private final Vertx vertx;
  private final CronSchedule schedule;
  private final Clock clock;
  private final Consumer<Instant> job;
  private long timerId = -1;
  private volatile Instant nextRun;
  private boolean stopped;

  /** @param job receives the scheduled time it runs for (not the possibly slightly later time it started) */
  public CronTimer(Vertx vertx, CronSchedule schedule, Clock clock, Consumer<Instant> job) {
    this.vertx = vertx;
    this.schedule = schedule;
    this.clock = clock;
    this.job = job;
  }

  public CronTimer start() {
    arm(clock.instant());
    return this;
  }

  /** When the job runs next (null once stopped, or if the schedule names no further time). */
  public Instant nextRun() {
    return nextRun;
  }

  private void arm(Instant after) {
    Optional<Instant> next = schedule.next(after);
    nextRun = next.orElse(null);
    if (next.isPresent()) {
      sleepUntil(next.get());
    }
  }

  private void sleepUntil(Instant slot) {
    if (stopped) {
      return;
    }
    long remaining = Duration.between(clock.instant(), slot).toMillis();
    if (remaining <= 0) {
      arm(slot);
      job.accept(slot);
      return;
    }
    timerId = vertx.setTimer(Math.min(remaining, MAX_SLEEP_MS), id -> sleepUntil(slot));
  }

  public void stop() {
    stopped = true;
    nextRun = null;
    vertx.cancelTimer(timerId);
  }
}
