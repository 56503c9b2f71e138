package io.inferencegateway.backup;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Backup outcomes in Prometheus: when the last backup succeeded (alert when it is too long ago), how long it took and
 * how big it was, and how many attempts failed.
 */
final class BackupMeters {

  private final AtomicLong lastSuccessEpochMs = new AtomicLong();
  private final AtomicLong lastDurationMs = new AtomicLong();
  private final AtomicLong lastSizeBytes = new AtomicLong();
  private final Counter failures;
  private final Counter successes;

  private static final java.util.Map<MeterRegistry, BackupMeters> BY_REGISTRY = new java.util.WeakHashMap<>();

  /**
   * The meters of this registry, registered once: a registry keeps the first gauge of a name, so a backup job
   * deployed again (a new leader in the same process, a test) must update the same values.
   */
  static synchronized BackupMeters of(MeterRegistry registry) {
    return BY_REGISTRY.computeIfAbsent(registry, BackupMeters::new);
  }

  private BackupMeters(MeterRegistry registry) {
    Gauge.builder("gateway_backup_last_success_timestamp_seconds", lastSuccessEpochMs, v -> v.get() / 1000.0)
        .description("When the last successful backup finished (Unix time; 0: none since start)").register(registry);
    Gauge.builder("gateway_backup_duration_seconds", lastDurationMs, v -> v.get() / 1000.0)
        .description("How long the last successful backup took (dump, compression and upload)").register(registry);
    Gauge.builder("gateway_backup_size_bytes", lastSizeBytes, AtomicLong::get)
        .description("Size of the last successful backup file (gzip-compressed)").register(registry);
    failures = Counter.builder("gateway_backup_failures")
        .description("Backup attempts that failed (each retry counts)").register(registry);
    successes = Counter.builder("gateway_backup_successes")
        .description("Backups that succeeded").register(registry);
  }

  void record(BackupOutcome o) {
    if (o.succeeded()) {
      lastSuccessEpochMs.set(o.finishedAt().toEpochMilli());
      lastDurationMs.set(o.durationMs());
      lastSizeBytes.set(o.sizeBytes() == null ? 0 : o.sizeBytes());
      successes.increment();
    } else {
      failures.increment();
    }
  }
}
