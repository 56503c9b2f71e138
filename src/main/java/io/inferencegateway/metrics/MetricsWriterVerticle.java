package io.inferencegateway.metrics;

import io.inferencegateway.config.Addresses;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.config.GatewayState;
import io.inferencegateway.config.PassThroughCodec;
import io.inferencegateway.store.ApiKeyStore;
import io.inferencegateway.store.MetricsStore;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Puts every usage record into the {@link UsageJournal} within one group-commit interval, whether or not the database
 * is up, then writes them to the {@code metrics} table in multi-row batches (exactly once: the table refuses a
 * repeated {@code request_id}); counts them in Prometheus and feeds the live summary. Records already journaled wait
 * in memory for the database (bounded); beyond that, and for what an earlier run left, the database is fed from the
 * journal's files. When the journal is full (its size limit), records are counted and dropped, and serving goes on.
 * The ingress only sends records here (as {@link UsageBatch}es, by reference); it never waits for this verticle.
 */
public final class MetricsWriterVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(MetricsWriterVerticle.class);
  private static final long MAX_BACKOFF_MS = 5000;
  private static final long DROP_LOG_INTERVAL_MS = 60_000;
  /** A group commit is made early once this many records wait (bounds one write). */
  private static final int MAX_COMMIT_RECORDS = 8192;

  /** Records made durable by one group commit, ending at {@code end} in the journal. */
  private record Chunk(List<UsageRecord> records, UsageJournal.Position start, UsageJournal.Position end) {}

  private final MetricsStore store;
  private final ApiKeyStore keys;
  private final GatewayMeters meters;
  private final GatewayConfig.Usage settings;
  private final Path dataDir;
  private final GatewayState health;
  private final String instance;

  private UsageJournal journal;
  private LiveStats live;
  /** Accepted, not yet in the journal. */
  private List<UsageRecord> pending = new ArrayList<>();
  private Future<Void> commit = Future.succeededFuture();
  private boolean committing;
  /** Journaled, not yet in the database, contiguous from {@link #readFrom} when not empty. */
  private final ArrayDeque<Chunk> memory = new ArrayDeque<>();
  private int memoryRecords;
  /** Everything before this position is in the database (or being written by the batch in flight). */
  private UsageJournal.Position readFrom;
  /** Everything before this position is in the journal. */
  private UsageJournal.Position journaled;
  private Future<Void> writing;
  private boolean outage;
  private boolean stopping;
  private long backoffMs;
  private long retryAtMs;
  private long droppedSinceLog;
  private long lastDropLogMs = -DROP_LOG_INTERVAL_MS;
  private long commitTimer = -1;
  private long flushTimer = -1;
  private long syncTimer = -1;
  private long liveTimer = -1;

  public MetricsWriterVerticle(MetricsStore store, ApiKeyStore keys, GatewayMeters meters, GatewayConfig.Usage settings,
                               Path dataDir, GatewayState health) {
    this(store, keys, meters, settings, dataDir, health, "local");
  }

  /** @param instance names this instance in the live summary (in cluster mode every member's summary reaches all) */
  public MetricsWriterVerticle(MetricsStore store, ApiKeyStore keys, GatewayMeters meters, GatewayConfig.Usage settings,
                               Path dataDir, GatewayState health, String instance) {
    this.instance = instance;
    this.store = store;
    this.keys = keys;
    this.meters = meters;
    this.settings = settings;
    this.dataDir = dataDir;
    this.health = health;
  }

  @Override
  public Future<?> start() {
    PassThroughCodec.register(vertx.eventBus(), UsageBatch.class);
    live = new LiveStats(meters);
    return blocking(() -> UsageJournal.open(dataDir, settings.journal())).compose(j -> {
      journal = j;
      readFrom = j.checkpoint();
      journaled = j.end();
      long waiting = j.pendingBytes();
      meters.usageJournalBytes().set(waiting);
      health.journalWritable(true);
      if (waiting > 0) {
        log.info("{} bytes of usage records wait in the journal {} from an earlier run; they will be stored now",
            waiting, j.directory());
      }
      MessageConsumer<UsageBatch> consumer = vertx.eventBus().localConsumer(Addresses.METRICS_RECORD,
          msg -> msg.body().records().forEach(this::accept));
      GatewayConfig.Journal js = settings.journal();
      commitTimer = vertx.setPeriodic(js.groupCommitMs(), id -> commit());
      flushTimer = vertx.setPeriodic(settings.flushIntervalMs(), id -> feed());
      if (js.fsync().equals("interval")) {
        syncTimer = vertx.setPeriodic(js.fsyncIntervalMs(), id -> blocking(() -> {
          journal.sync();
          return null;
        }).onFailure(err -> log.warn("Cannot sync the usage journal: {}", err.getMessage())));
      }
      liveTimer = vertx.setPeriodic(1000, id -> vertx.eventBus().publish(Addresses.METRICS_LIVE,
          live.snapshotAndReset().put("instance", instance)));
      feed();
      return consumer.completion();
    });
  }

  /** File work, one task at a time in submission order, off the event loop. */
  private <T> Future<T> blocking(java.util.concurrent.Callable<T> task) {
    return context.executeBlocking(task, true);
  }

  private void accept(UsageRecord r) {
    meters.record(r);
    live.add(r);
    pending.add(r);
    if (pending.size() >= MAX_COMMIT_RECORDS) {
      commit();
    }
  }

  /** Appends what was accepted since the last commit to the journal, in one write. */
  private Future<Void> commit() {
    if (committing || pending.isEmpty() || journal == null) {
      return commit;
    }
    committing = true;
    List<UsageRecord> out = pending;
    pending = new ArrayList<>();
    UsageJournal.Position start = journaled;
    commit = blocking(() -> {
      UsageJournal.Position end = journal.append(out);
      meters.usageJournalBytes().set(journal.pendingBytes());
      return end;
    }).transform(ar -> {
      committing = false;
      if (ar.failed()) {
        health.journalWritable(false);
        // kept, in order, for the next commit: the journal may come back (disk space freed), up to the memory bound
        out.addAll(pending);
        pending = out;
        log.error("Cannot append to the usage journal: {}", ar.cause().getMessage());
        int excess = pending.size() - settings.memoryBufferRecords();
        if (excess > 0) {
          pending = new ArrayList<>(pending.subList(excess, pending.size()));
          drop(excess);
        }
        return Future.succeededFuture();
      }
      health.journalWritable(true);
      UsageJournal.Position end = ar.result();
      if (end == null) {
        drop(out.size());
        return Future.succeededFuture();
      }
      journaled = end;
      Chunk chunk = new Chunk(out, start, end);
      boolean contiguous = memory.isEmpty() ? start.equals(readFrom) : memory.peekLast().end().equals(start);
      if (contiguous && memoryRecords + out.size() <= settings.memoryBufferRecords()) {
        memory.addLast(chunk);
        memoryRecords += out.size();
        meters.usageBuffered().set(memoryRecords);
      }
      if (!stopping) {
        feed();
      }
      return Future.succeededFuture();
    });
    return commit;
  }

  /** The journal is full (or unwritable for too long): the records are counted and not stored. */
  private void drop(int n) {
    if (n <= 0) {
      return;
    }
    meters.usageDropped().increment(n);
    droppedSinceLog += n;
    long now = System.currentTimeMillis();
    if (now - lastDropLogMs >= DROP_LOG_INTERVAL_MS) {
      log.error("The usage journal is full ({} bytes, limit usage.journal.maxBytes {}); dropped {} usage record(s)"
          + " since the last message. Is the database reachable?", meters.usageJournalBytes().get(),
          settings.journal().maxBytes(), droppedSinceLog);
      lastDropLogMs = now;
      droppedSinceLog = 0;
    }
  }

  /** Writes the next batch to the database: from memory when it holds the next records, else from the files. */
  private void feed() {
    if (writing != null || journal == null || System.currentTimeMillis() < retryAtMs) {
      return;
    }
    Future<UsageJournal.Batch> next;
    int fromMemory;
    if (!memory.isEmpty() && memory.peekFirst().start().equals(readFrom)) {
      List<UsageRecord> batch = new ArrayList<>();
      UsageJournal.Position end = readFrom;
      int chunks = 0;
      for (Chunk c : memory) {
        if (!batch.isEmpty() && batch.size() + c.records().size() > Math.max(settings.batchSize(), 1)) {
          break;
        }
        batch.addAll(c.records());
        end = c.end();
        chunks++;
      }
      next = Future.succeededFuture(new UsageJournal.Batch(batch, end));
      fromMemory = chunks;
    } else if (readFrom.before(journaled)) {
      UsageJournal.Position from = readFrom;
      UsageJournal.Position limit = memory.isEmpty() ? journaled : memory.peekFirst().start();
      next = blocking(() -> journal.read(from, limit, settings.batchSize()));
      fromMemory = 0;
    } else {
      return;
    }
    UsageJournal.Position before = readFrom;
    Future<Void> w = next.compose(batch -> write(batch.records()).compose(v -> {
      for (int i = 0; i < fromMemory; i++) {
        memoryRecords -= memory.pollFirst().records().size();
      }
      meters.usageBuffered().set(memoryRecords);
      readFrom = batch.end();
      UsageJournal.Position done = batch.end();
      return blocking(() -> {
        journal.checkpoint(done);
        meters.usageJournalBytes().set(journal.pendingBytes());
        return null;
      });
    }));
    writing = w;
    w.onComplete(ar -> {
      writing = null;
      if (ar.failed()) {
        return;
      }
      if (!stopping && readFrom.before(journaled) && !readFrom.equals(before)) {
        feed();
      }
    });
  }

  /** One attempt to store a batch, with outage bookkeeping (log once, back off, count). */
  private Future<Void> write(List<UsageRecord> batch) {
    if (batch.isEmpty()) {
      return Future.succeededFuture();
    }
    return store.insertBatch(batch)
        .timeout(30, TimeUnit.SECONDS)
        .onSuccess(v -> {
          if (outage) {
            outage = false;
            log.info("The database is reachable again; writing journaled usage records");
          }
          health.databaseReachable(true);
          backoffMs = 0;
          retryAtMs = 0;
          touchKeys(batch);
        })
        .onFailure(err -> {
          meters.usageWriteFailures().increment();
          health.databaseReachable(false);
          backoffMs = backoffMs == 0 ? 250 : Math.min(MAX_BACKOFF_MS, backoffMs * 2);
          retryAtMs = System.currentTimeMillis() + backoffMs;
          if (!outage) {
            outage = true;
            log.warn("Cannot write usage records ({}); they wait in the journal until the database is back",
                err.getMessage());
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

  /** How long a stop may go on writing journaled records to a reachable database. */
  private static final long STOP_DRAIN_MS = 5000;

  /** Writes journaled records while the database answers, until all are stored or the deadline passes. */
  private Future<Void> drainToDatabase(long deadline) {
    Future<Void> inFlight = writing == null ? Future.succeededFuture() : writing;
    return inFlight.timeout(Math.max(1, deadline - System.currentTimeMillis()), TimeUnit.MILLISECONDS)
        .transform(ar -> {
          if (outage || ar.failed() || System.currentTimeMillis() >= deadline || !readFrom.before(journaled)) {
            return Future.succeededFuture();
          }
          UsageJournal.Position before = readFrom;
          retryAtMs = 0;
          feed();
          if (writing == null) {
            return Future.succeededFuture();
          }
          return writing.transform(x -> readFrom.equals(before) ? Future.<Void>succeededFuture()
              : drainToDatabase(deadline));
        });
  }

  /**
   * Journals what is still pending, writes what it can to the database while it answers (a few seconds at most), then
   * closes the journal: whatever is not in the database yet is stored by the next start.
   */
  @Override
  public Future<?> stop() {
    stopping = true;
    for (long t : new long[] {commitTimer, flushTimer, syncTimer, liveTimer}) {
      vertx.cancelTimer(t);
    }
    if (journal == null) {
      return Future.succeededFuture();
    }
    long deadline = System.currentTimeMillis() + STOP_DRAIN_MS;
    return commit.eventually(this::commit)
        .eventually(() -> drainToDatabase(deadline))
        .eventually(() -> blocking(() -> {
          long left = journal.pendingBytes();
          journal.close();
          if (left > 0) {
            log.info("{} bytes of usage records stay in the journal for the next start", left);
          }
          return null;
        }));
  }
}
