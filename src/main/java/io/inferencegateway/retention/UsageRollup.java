package io.inferencegateway.retention;

import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.store.UsageRollupStore;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;

/**
 * Rolls usage rows older than {@code metrics.retentionDays} up into hourly aggregates and deletes them, the oldest
 * hour first. For each hour:
 * <ol>
 *   <li>its rows above the hour's guard ({@code metrics_rollups.max_id}, none the first time) are read in windows of
 *   the primary key and summed per group ({@link HourAggregator});</li>
 *   <li>the aggregates and the guard moved to the largest id read are stored in one transaction: a crash before it
 *   leaves nothing, and a second run for the same hour (another gateway) finds the guard moved and stores nothing;</li>
 *   <li>the hour's rows up to the guard are deleted, at most {@code deleteBatchRows} per statement with
 *   {@code deletePauseMs} between statements, so no statement holds locks for long. A crash in the middle leaves rows
 *   the guard says were counted: the next run deletes them without counting them again.</li>
 * </ol>
 * Rows of a rolled-up hour written later (a replay of old usage) get larger ids than the guard and are rolled up by a
 * later run, as more aggregates of that hour. (One case escapes the guard: a row of an hour older than the retention
 * period whose insert commits while that hour is being rolled up, with an id below one already read. Usage rows are
 * written as requests finish, so only a replay of records older than the retention period could do that, at that
 * very moment.)
 */
public final class UsageRollup {

  private static final Logger log = LoggerFactory.getLogger(UsageRollup.class);
  static final long HOUR = 3600;
  /** Ids per read window: a bounded primary-key range scan, and a bounded result. */
  static final int READ_WINDOW = 5000;

  /** What one run did. */
  public record Result(int hours, long rowsRolledUp, long rowsDeleted) {
    Result plus(HourResult h) {
      return new Result(hours + (h.rolledUp > 0 ? 1 : 0), rowsRolledUp + h.rolledUp, rowsDeleted + h.deleted);
    }
  }

  private record HourResult(long rolledUp, long deleted) {}

  private final Vertx vertx;
  private final UsageRollupStore store;
  private final GatewayConfig.Retention settings;
  private volatile boolean stopped;

  public UsageRollup(Vertx vertx, UsageRollupStore store, GatewayConfig.Retention settings) {
    this.vertx = vertx;
    this.store = store;
    this.settings = settings;
  }

  /** The first hour that is kept raw: rows of every hour before it are rolled up. */
  public static long cutoff(Instant now, int retentionDays) {
    long t = now.getEpochSecond() - retentionDays * 86_400L;
    return Math.floorDiv(t, HOUR) * HOUR;
  }

  /** Makes a run in progress end after the hour it is working on. */
  public void stop() {
    stopped = true;
  }

  public Future<Result> run(Instant now) {
    Promise<Result> done = Promise.promise();
    if (settings.retentionDays() <= 0) {
      done.complete(new Result(0, 0, 0));
    } else {
      next(cutoff(now, settings.retentionDays()), new Result(0, 0, 0), Long.MIN_VALUE, done);
    }
    return done.future();
  }

  /**
   * One hour per step, each step started from the previous one's callback and the run's one promise completed at
   * the end: a backlog of thousands of hours never builds a chain of nested futures.
   */
  private void next(long cutoff, Result sofar, long lastHour, Promise<Result> done) {
    if (stopped) {
      done.complete(sofar);
      return;
    }
    store.oldestCreatedBefore(cutoff).compose(oldest -> {
      if (oldest == null) {
        done.complete(sofar);
        return Future.succeededFuture();
      }
      long hour = Math.floorDiv(oldest, HOUR) * HOUR;
      return rollHour(hour).map(h -> {
        if (h.rolledUp == 0 && h.deleted == 0 && hour == lastHour) {
          // no progress on the same hour twice: leave it to the next run
          log.warn("Usage roll-up: hour {} made no progress; trying again at the next run", Instant.ofEpochSecond(hour));
          done.complete(sofar);
        } else {
          vertx.runOnContext(v -> next(cutoff, sofar.plus(h), hour, done));
        }
        return null;
      });
    }).onFailure(done::tryFail);
  }

  private Future<HourResult> rollHour(long hour) {
    return store.rolledMaxId(hour).compose(previous -> {
      long after = previous == null ? 0 : previous;
      return store.idRange(hour, after).compose(range -> {
        if (range == null) { // nothing new: only rows counted before and not deleted yet (a crash mid-way)
          return deleteCounted(hour, after, 0).map(d -> new HourResult(0, d));
        }
        HourAggregator aggregator = new HourAggregator(hour);
        return read(hour, after, range[1], aggregator)
            .compose(v -> store.commit(hour, previous, range[1], aggregator.rows(), aggregator.aggregates()))
            .compose(stored -> {
              if (!stored) {
                log.info("Usage roll-up: hour {} was rolled up by another run meanwhile", Instant.ofEpochSecond(hour));
                return Future.succeededFuture(new HourResult(0, 0));
              }
              return deleteCounted(hour, range[1], 0).map(d -> new HourResult(aggregator.rows(), d));
            });
      });
    });
  }

  /** Reads the hour's rows with {@code fromId < id <= toId} in id windows, one window per step (see {@link #next}). */
  private Future<Void> read(long hour, long fromId, long toId, HourAggregator into) {
    Promise<Void> done = Promise.promise();
    readWindow(hour, fromId, toId, into, done);
    return done.future();
  }

  private void readWindow(long hour, long fromId, long toId, HourAggregator into, Promise<Void> done) {
    if (fromId >= toId) {
      done.complete();
      return;
    }
    long windowEnd = Math.min(toId, fromId + READ_WINDOW);
    store.rows(hour, fromId, windowEnd).compose(rows -> {
      rows.forEach(into::add);
      // an empty window (the hour's ids can be far apart): jump to the hour's next id
      return rows.isEmpty() ? store.idRange(hour, windowEnd).map(r -> r == null ? toId : Math.min(toId, r[0] - 1))
          : Future.succeededFuture(windowEnd);
    }).onFailure(done::fail)
        .onSuccess(next -> vertx.runOnContext(v -> readWindow(hour, next, toId, into, done)));
  }

  /** Deletes the hour's rows up to {@code maxId}, a batch per step (see {@link #next}); completes with the count. */
  private Future<Long> deleteCounted(long hour, long maxId, long deletedSoFar) {
    Promise<Long> done = Promise.promise();
    deleteBatch(hour, maxId, deletedSoFar, done);
    return done.future();
  }

  private void deleteBatch(long hour, long maxId, long deletedSoFar, Promise<Long> done) {
    store.countedIds(hour, maxId, settings.deleteBatchRows())
        .compose(ids -> ids.isEmpty() ? Future.succeededFuture(-1) : store.delete(ids))
        .onFailure(done::fail)
        .onSuccess(n -> {
          if (n < 0) {
            done.complete(deletedSoFar);
          } else if (settings.deletePauseMs() > 0) {
            vertx.setTimer(settings.deletePauseMs(), t -> deleteBatch(hour, maxId, deletedSoFar + n, done));
          } else {
            vertx.runOnContext(v -> deleteBatch(hour, maxId, deletedSoFar + n, done));
          }
        });
  }
}
