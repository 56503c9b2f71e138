package io.inferencegateway.metrics;

import io.inferencegateway.config.Addresses;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.config.PassThroughCodec;
import io.inferencegateway.store.ApiKeyStore;
import io.inferencegateway.store.MetricsStore;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Writes usage records to the {@code metrics} table in multi-row batches, counts them in Prometheus and feeds the
 * live summary. When the database is unreachable, records wait in memory (bounded) and then in the {@link UsageSpool}
 * file; when it comes back they are written once (the table refuses a repeated {@code request_id}). The ingress only
 * sends records here; it never waits for this verticle.
 */
public final class MetricsWriterVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(MetricsWriterVerticle.class);
  private static final long MAX_BACKOFF_MS = 5000;

  private final MetricsStore store;
  private final ApiKeyStore keys;
  private final GatewayMeters meters;
  private final GatewayConfig.Usage settings;
  private final String spoolDir;
  private final String instance;

  private final ArrayDeque<UsageRecord> memory = new ArrayDeque<>();
  private UsageSpool spool;
  private LiveStats live;
  private boolean writing;
  private boolean draining;
  private boolean spooling;
  private boolean outage;
  /** Until a drain finds the spool empty, assume records may wait there (e.g. from an earlier run). */
  private boolean spoolMayHaveRecords = true;
  private long backoffMs;
  private long retryAtMs;
  private long flushTimer;
  private long liveTimer;

  public MetricsWriterVerticle(MetricsStore store, ApiKeyStore keys, GatewayMeters meters, GatewayConfig.Usage settings,
                               String spoolDir) {
    this(store, keys, meters, settings, spoolDir, "local");
  }

  /** @param instance names this instance in the live summary (in cluster mode every member's summary reaches all) */
  public MetricsWriterVerticle(MetricsStore store, ApiKeyStore keys, GatewayMeters meters, GatewayConfig.Usage settings,
                               String spoolDir, String instance) {
    this.instance = instance;
    this.store = store;
    this.keys = keys;
    this.meters = meters;
    this.settings = settings;
    this.spoolDir = spoolDir;
  }

  @Override
  public Future<?> start() {
    PassThroughCodec.register(vertx.eventBus(), UsageBatch.class);
    spool = new UsageSpool(vertx, spoolDir);
    live = new LiveStats(meters);
    MessageConsumer<UsageBatch> consumer = vertx.eventBus().localConsumer(Addresses.METRICS_RECORD,
        msg -> msg.body().records().forEach(this::accept));
    flushTimer = vertx.setPeriodic(settings.flushIntervalMs(), id -> flush());
    liveTimer = vertx.setPeriodic(1000, id -> vertx.eventBus().publish(Addresses.METRICS_LIVE,
        live.snapshotAndReset().put("instance", instance)));
    return Future.join(consumer.completion(), spool.init().compose(v -> spool.count()).onSuccess(n -> {
      meters.usageSpooled().set(n);
      if (n > 0) {
        log.info("{} usage record(s) wait in the spool from an earlier run; they will be written now", n);
      }
    }));
  }

  private void accept(UsageRecord r) {
    meters.record(r);
    live.add(r);
    memory.addLast(r);
    meters.usageBuffered().set(memory.size());
    if (memory.size() >= settings.batchSize()) {
      flush();
    }
    if (memory.size() > settings.memoryBufferRecords()) {
      spill();
    }
  }

  /** Writes one batch from memory, or drains the spool when memory is nearly empty. */
  private void flush() {
    if (writing || System.currentTimeMillis() < retryAtMs) {
      return;
    }
    if (memory.isEmpty()) {
      drainSpool();
      return;
    }
    writing = true;
    List<UsageRecord> batch = new ArrayList<>(Math.min(memory.size(), settings.batchSize()));
    while (!memory.isEmpty() && batch.size() < settings.batchSize()) {
      batch.add(memory.pollFirst());
    }
    meters.usageBuffered().set(memory.size());
    write(batch).onComplete(ar -> {
      writing = false;
      if (ar.failed()) {
        // back to the front, in order: nothing is lost, and the next attempt retries the same rows
        for (int i = batch.size() - 1; i >= 0; i--) {
          memory.addFirst(batch.get(i));
        }
        meters.usageBuffered().set(memory.size());
        if (memory.size() > settings.memoryBufferRecords()) {
          spill();
        }
        return;
      }
      if (memory.size() >= settings.batchSize()) {
        flush();
      } else if (memory.isEmpty()) {
        drainSpool();
      }
    });
  }

  /** One attempt to store a batch, with outage bookkeeping (log once, back off, count). */
  private Future<Void> write(List<UsageRecord> batch) {
    return store.insertBatch(batch)
        .timeout(30, TimeUnit.SECONDS)
        .onSuccess(v -> {
          if (outage) {
            outage = false;
            log.info("The database is reachable again; writing buffered usage records");
          }
          backoffMs = 0;
          retryAtMs = 0;
          touchKeys(batch);
        })
        .onFailure(err -> {
          meters.usageWriteFailures().increment();
          backoffMs = backoffMs == 0 ? 250 : Math.min(MAX_BACKOFF_MS, backoffMs * 2);
          retryAtMs = System.currentTimeMillis() + backoffMs;
          if (!outage) {
            outage = true;
            log.warn("Cannot write usage records ({}); keeping them until the database is back", err.getMessage());
          }
        });
  }

  private void touchKeys(List<UsageRecord> batch) {
    Set<Long> ids = new HashSet<>();
    for (UsageRecord r : batch) {
      if (r.apiKeyId() != null) {
        ids.add(r.apiKeyId());
      }
    }
    keys.touchLastUsed(ids, Instant.now()).onFailure(err -> log.debug("last_used_at not updated: {}", err.getMessage()));
  }

  /** Moves the oldest half of memory to the spool file so memory stays bounded during an outage. */
  private void spill() {
    if (spooling) {
      return;
    }
    spooling = true;
    int n = Math.max(memory.size() - settings.memoryBufferRecords() / 2, 0);
    List<UsageRecord> out = new ArrayList<>(n);
    for (int i = 0; i < n && !memory.isEmpty(); i++) {
      out.add(memory.pollFirst());
    }
    meters.usageBuffered().set(memory.size());
    spool.append(out).onComplete(ar -> {
      spooling = false;
      if (ar.succeeded()) {
        meters.usageSpooled().addAndGet(out.size());
      } else {
        log.error("Cannot append to the usage spool ({}); keeping the records in memory", ar.cause().getMessage());
        for (int i = out.size() - 1; i >= 0; i--) {
          memory.addFirst(out.get(i));
        }
        meters.usageBuffered().set(memory.size());
      }
    });
  }

  private void drainSpool() {
    if (draining || meters.usageSpooled().get() <= 0 && !spoolMayHaveRecords) {
      return;
    }
    draining = true;
    spool.drainOne(settings.batchSize(), batch -> write(batch).onSuccess(v -> meters.usageSpooled().addAndGet(-batch.size())))
        .onComplete(ar -> {
          draining = false;
          if (ar.succeeded() && ar.result() == 0) {
            spoolMayHaveRecords = false;
            meters.usageSpooled().set(0);
          } else if (ar.succeeded()) {
            spoolMayHaveRecords = true;
          }
        });
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(flushTimer);
    vertx.cancelTimer(liveTimer);
    if (memory.isEmpty()) {
      return spool.close();
    }
    // last chance: one attempt to store what is in memory, else it goes to the spool for the next start
    List<UsageRecord> rest = new ArrayList<>(memory);
    memory.clear();
    return store.insertBatch(rest).timeout(3, TimeUnit.SECONDS)
        .recover(err -> spool.append(rest))
        .eventually(() -> spool.close());
  }
}
