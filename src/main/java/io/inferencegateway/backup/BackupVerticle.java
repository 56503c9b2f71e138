package io.inferencegateway.backup;

import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.scheduler.CronSchedule;
import io.inferencegateway.scheduler.CronTimer;
import io.inferencegateway.store.BackupStore;
import io.inferencegateway.store.Database;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.TimeUnit;

/**
 * The periodic backup job: takes a backup at each time of {@code backup.schedule}; a failed attempt is retried
 * {@code backup.retries} times, {@code backup.retryDelayMs} apart and doubling, then given up until the next scheduled
 * time. Each attempt is recorded in the {@code backups} table (kept in memory meanwhile if the database is what failed)
 * and in Prometheus. Nothing here can stop the gateway: failures are outcomes.
 *
 * <p>Deploy it where backups should run (one instance per deployment: on a cluster, the leader only); undeploying it
 * stops the timer and kills a dump in progress. A time whose backup is still running is skipped.
 */
public final class BackupVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(BackupVerticle.class);

  private final Database db;
  private final GatewayConfig config;
  private final MeterRegistry registry;
  private final Clock clock;
  private final Deque<BackupOutcome> unrecorded = new ArrayDeque<>();
  private WorkerExecutor worker;
  private BackupService service;
  private BackupStore store;
  private BackupMeters meters;
  private CronTimer timer;
  private boolean running;
  private boolean stopped;
  private long flushTimer = -1;
  private boolean flushing;

  public BackupVerticle(Database db, GatewayConfig config, MeterRegistry registry, Clock clock) {
    this.db = db;
    this.config = config;
    this.registry = registry;
    this.clock = clock;
  }

  @Override
  public Future<?> start() {
    GatewayConfig.Backup b = config.backup();
    // one thread: backups never overlap; its tasks may run as long as the backup timeout without "blocked" warnings
    worker = vertx.createSharedWorkerExecutor("gateway-backup", 1, b.timeoutMs() + 60_000, TimeUnit.MILLISECONDS);
    service = new BackupService(db, config, worker, clock);
    store = new BackupStore(db);
    meters = BackupMeters.of(registry);
    CronSchedule.parse("backup.schedule", b.schedule()).ifPresentOrElse(schedule -> {
      timer = new CronTimer(vertx, schedule, clock, this::scheduled).start();
      log.info("Backups: {} to {}{}; next at {}", schedule, service.directory(),
          b.s3().enabled() ? " and s3://" + b.s3().bucket() + "/" + b.s3().prefix() : "", timer.nextRun());
    }, () -> log.info("Scheduled backups are off (backup.schedule)"));
    return Future.succeededFuture();
  }

  /** When the next scheduled backup starts (null: no schedule). */
  public Instant nextRun() {
    return timer == null ? null : timer.nextRun();
  }

  private void scheduled(Instant slot) {
    if (running) {
      log.warn("Backup for {} skipped: the previous backup is still running", slot);
      return;
    }
    running = true;
    attempt(slot, 1).onComplete(ar -> running = false);
  }

  private Future<Void> attempt(Instant slot, int attempt) {
    return service.take(BackupOutcome.SCHEDULE, slot, attempt).compose(outcome -> {
      meters.record(outcome);
      record(outcome);
      if (outcome.succeeded()) {
        log.info("Backup {} written ({} bytes, {} ms){}", outcome.fileName(), outcome.sizeBytes(),
            outcome.durationMs(), outcome.s3Key() == null ? "" : ", uploaded as " + outcome.s3Key());
        return Future.<Void>succeededFuture();
      }
      int retries = config.backup().retries();
      if (attempt > retries || stopped) {
        log.error("Backup for {} failed (attempt {} of {}), giving up until the next scheduled time: {}", slot,
            attempt, retries + 1, outcome.error());
        return Future.<Void>succeededFuture();
      }
      long delay = config.backup().retryDelayMs() << Math.min(attempt - 1, 20);
      log.warn("Backup for {} failed (attempt {} of {}), retrying in {} ms: {}", slot, attempt, retries + 1, delay,
          outcome.error());
      return vertx.timer(delay).compose(t -> stopped ? Future.<Void>succeededFuture() : attempt(slot, attempt + 1));
    });
  }

  /** Stores the outcome, after any that could not be stored before (the database may have been the failure). */
  private void record(BackupOutcome outcome) {
    if (unrecorded.size() >= MAX_UNRECORDED) {
      unrecorded.pollFirst();
    }
    unrecorded.addLast(outcome);
    flushRecords();
  }

  static final int MAX_UNRECORDED = 100;
  static final long RECORD_RETRY_MS = 10_000;

  private void flushRecords() {
    BackupOutcome next = unrecorded.peekFirst();
    if (next == null || stopped || flushing) {
      return;
    }
    flushing = true;
    store.insert(next).onComplete(ar -> {
      flushing = false;
      if (ar.succeeded()) {
        unrecorded.pollFirst();
        flushRecords();
      } else {
        log.warn("Backup outcome not stored yet ({} waiting): {}", unrecorded.size(), ar.cause().getMessage());
        if (flushTimer < 0) {
          flushTimer = vertx.setTimer(RECORD_RETRY_MS, id -> {
            flushTimer = -1;
            flushRecords();
          });
        }
      }
    });
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    vertx.cancelTimer(flushTimer);
    if (timer != null) {
      timer.stop();
    }
    service.cancel();
    return worker.close();
  }
}
