package io.inferencegateway.retention;

import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.scheduler.CronSchedule;
import io.inferencegateway.scheduler.CronTimer;
import io.inferencegateway.store.Database;
import io.inferencegateway.store.UsageRollupStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs the usage roll-up ({@link UsageRollup}) at each time of {@code metrics.rollupSchedule} (hourly by default).
 * A failed run is not retried: the next one carries on where it stopped. Deploy it where such jobs should run (one
 * per deployment: on a cluster, the leader only; a double run is harmless, see {@link UsageRollup}).
 */
public final class RetentionVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(RetentionVerticle.class);

  private final Database db;
  private final GatewayConfig.Retention settings;
  private final MeterRegistry registry;
  private final Clock clock;
  private UsageRollup rollup;
  private CronTimer timer;
  private Meters meters;
  private Future<UsageRollup.Result> running;

  public RetentionVerticle(Database db, GatewayConfig.Retention settings, MeterRegistry registry, Clock clock) {
    this.db = db;
    this.settings = settings;
    this.registry = registry;
    this.clock = clock;
  }

  @Override
  public Future<?> start() {
    rollup = new UsageRollup(vertx, new UsageRollupStore(db), settings);
    meters = Meters.of(registry);
    if (settings.retentionDays() <= 0 || settings.schedule() == null) {
      log.info("Usage retention is off: raw usage rows are kept for ever (metrics.retentionDays, metrics.rollupSchedule)");
      return Future.succeededFuture();
    }
    CronSchedule schedule = CronSchedule.parse("metrics.rollupSchedule", settings.schedule()).orElseThrow();
    timer = new CronTimer(vertx, schedule, clock, slot -> runNow());
    timer.start();
    return Future.succeededFuture();
  }

  /** Runs the roll-up now (or returns the run in progress). */
  public Future<UsageRollup.Result> runNow() {
    if (running != null) {
      return running;
    }
    Future<UsageRollup.Result> run = rollup.run(clock.instant()).onComplete(ar -> {
      running = null;
      if (ar.succeeded()) {
        meters.lastSuccessEpochMs.set(clock.millis());
        meters.rowsRolledUp.increment(ar.result().rowsRolledUp());
        if (ar.result().rowsDeleted() > 0) {
          log.info("Usage roll-up: {} rows of {} hours older than {} days rolled up, {} rows deleted",
              ar.result().rowsRolledUp(), ar.result().hours(), settings.retentionDays(), ar.result().rowsDeleted());
        }
      } else {
        meters.failures.increment();
        log.warn("Usage roll-up failed (the next run carries on): {}", ar.cause().getMessage());
      }
    });
    running = run.isComplete() ? null : run;
    return run;
  }

  /** The job's meters, registered once per registry (it keeps the first gauge of a name), reused by a redeploy. */
  private static final class Meters {
    private static final java.util.Map<MeterRegistry, Meters> BY_REGISTRY = new java.util.WeakHashMap<>();

    final AtomicLong lastSuccessEpochMs = new AtomicLong();
    final Counter rowsRolledUp;
    final Counter failures;

    private Meters(MeterRegistry registry) {
      Gauge.builder("gateway_usage_rollup_last_success_timestamp_seconds", lastSuccessEpochMs, v -> v.get() / 1000.0)
          .description("When the usage roll-up last finished a run (Unix time; 0: none since start)").register(registry);
      rowsRolledUp = Counter.builder("gateway_usage_rows_rolled_up")
          .description("Usage rows rolled up into hourly aggregates and deleted").register(registry);
      failures = Counter.builder("gateway_usage_rollup_failures")
          .description("Usage roll-up runs that failed").register(registry);
    }

    static synchronized Meters of(MeterRegistry registry) {
      return BY_REGISTRY.computeIfAbsent(registry, Meters::new);
    }
  }

  /** When the next run starts (null: off). */
  public Instant nextRun() {
    return timer == null ? null : timer.nextRun();
  }

  @Override
  public Future<?> stop() {
    if (timer != null) {
      timer.stop();
    }
    rollup.stop();
    return running == null ? Future.succeededFuture() : running.otherwiseEmpty();
  }
}
