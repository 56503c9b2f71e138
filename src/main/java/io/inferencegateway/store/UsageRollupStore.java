package io.inferencegateway.store;

import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * SQL of the usage roll-up ({@code retention} package): reads an old hour of {@code metrics} in id windows, stores its
 * aggregates in {@code metrics_hourly} together with its guard row in {@code metrics_rollups} (one transaction), and
 * deletes the counted raw rows in small batches.
 */
public final class UsageRollupStore {

  /** The columns of one usage row that the roll-up needs. */
  public record RawRow(long id, Integer apiKeyId, String model, int status, long promptTokens, long completionTokens,
                       double duration) {}

  /**
   * One hour's totals for one group.
   *
   * @param groupedBy {@code key_model}, {@code model}, {@code api_key} or {@code none}
   */
  public record Aggregate(long hourStart, String groupedBy, Integer apiKeyId, String model, long requests, long errors,
                          long promptTokens, long completionTokens, double durationSum, double durationMax,
                          double latencyP50, double latencyP95) {}

  private static final int AGGREGATES_PER_INSERT = 100;

  private final Database db;

  public UsageRollupStore(Database db) {
    this.db = db;
  }

  /** The smallest {@code created} below {@code cutoff} (epoch seconds), or null if no row is that old. */
  public Future<Long> oldestCreatedBefore(long cutoff) {
    return db.pool().preparedQuery("SELECT MIN(created) FROM metrics WHERE created < ?").execute(Tuple.of(cutoff))
        .map(rows -> SqlValues.nullableLong(rows.iterator().next(), 0));
  }

  /** The last raw id counted into this hour's aggregates, or null if the hour was never rolled up. */
  public Future<Long> rolledMaxId(long hourStart) {
    return db.pool().preparedQuery("SELECT max_id FROM metrics_rollups WHERE hour_start = ?")
        .execute(Tuple.of(hourStart))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getLong(0));
  }

  /** Smallest and largest id of the hour's rows above {@code afterId}, or null if there are none. */
  public Future<long[]> idRange(long hourStart, long afterId) {
    return db.pool().preparedQuery("SELECT MIN(id), MAX(id) FROM metrics WHERE created >= ? AND created < ? AND id > ?")
        .execute(Tuple.of(hourStart, hourStart + 3600, afterId))
        .map(rows -> {
          Row r = rows.iterator().next();
          Long min = SqlValues.nullableLong(r, 0);
          return min == null ? null : new long[] {min, SqlValues.nullableLong(r, 1)};
        });
  }

  /** The hour's rows with {@code fromId < id <= toId} (a window of the primary key: a bounded range scan). */
  public Future<List<RawRow>> rows(long hourStart, long fromId, long toId) {
    return db.pool().preparedQuery("SELECT id, api_key_id, model, status, prompt_tokens, completion_tokens, duration"
            + " FROM metrics WHERE id > ? AND id <= ? AND created >= ? AND created < ?")
        .execute(Tuple.of(fromId, toId, hourStart, hourStart + 3600))
        .map(rows -> {
          List<RawRow> out = new ArrayList<>(rows.size());
          for (Row r : rows) {
            out.add(new RawRow(r.getLong("id"), SqlValues.nullableInt(r, "api_key_id"), r.getString("model"),
                r.getInteger("status"), r.getLong("prompt_tokens"), r.getLong("completion_tokens"),
                ((Number) r.getValue("duration")).doubleValue()));
          }
          return out;
        });
  }

  /**
   * Stores the hour's aggregates and moves its guard row from {@code previousMaxId} (null: none yet) to
   * {@code maxId}, in one transaction. Completes with false, storing nothing, when the guard row is not at
   * {@code previousMaxId} any more: another run (another gateway) rolled the hour up meanwhile.
   */
  public Future<Boolean> commit(long hourStart, Long previousMaxId, long maxId, long rowsRolled,
                                List<Aggregate> aggregates) {
    Instant now = Instant.now();
    return db.inTransaction(conn -> {
      Future<Integer> guard = previousMaxId == null
          ? conn.preparedQuery("INSERT INTO metrics_rollups (hour_start, max_id, rows_rolled, rolled_at) VALUES (?, ?, ?, ?)")
              .execute(Tuple.of(hourStart, maxId, rowsRolled, SqlValues.toDb(now))).map(r -> r.rowCount())
          : conn.preparedQuery("UPDATE metrics_rollups SET max_id = ?, rows_rolled = rows_rolled + ?, rolled_at = ?"
                  + " WHERE hour_start = ? AND max_id = ?")
              .execute(Tuple.of(maxId, rowsRolled, SqlValues.toDb(now), hourStart, previousMaxId)).map(r -> r.rowCount());
      return guard.compose(updated -> updated == 1 ? insertAggregates(conn, aggregates)
          : Future.failedFuture(new ConcurrentRollup()));
    }).map(true).recover(err -> rolledMaxId(hourStart).compose(now2 ->
        java.util.Objects.equals(now2, previousMaxId) ? Future.failedFuture(err) : Future.succeededFuture(false)));
  }

  private static final class ConcurrentRollup extends RuntimeException {
    ConcurrentRollup() {
      super("the hour was rolled up by another run", null, false, false);
    }
  }

  private Future<Void> insertAggregates(io.vertx.sqlclient.SqlConnection conn, List<Aggregate> aggregates) {
    Future<Void> chain = Future.succeededFuture();
    for (int from = 0; from < aggregates.size(); from += AGGREGATES_PER_INSERT) {
      List<Aggregate> chunk = aggregates.subList(from, Math.min(aggregates.size(), from + AGGREGATES_PER_INSERT));
      StringBuilder sql = new StringBuilder("INSERT INTO metrics_hourly (hour_start, grouped_by, api_key_id, model,"
          + " requests, errors, prompt_tokens, completion_tokens, duration_sum, duration_max, latency_p50, latency_p95)"
          + " VALUES ");
      List<Object> values = new ArrayList<>(chunk.size() * 12);
      for (int i = 0; i < chunk.size(); i++) {
        sql.append(i == 0 ? "" : ", ").append("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        Aggregate a = chunk.get(i);
        values.add(a.hourStart());
        values.add(a.groupedBy());
        values.add(a.apiKeyId());
        values.add(a.model());
        values.add(a.requests());
        values.add(a.errors());
        values.add(a.promptTokens());
        values.add(a.completionTokens());
        values.add(a.durationSum());
        values.add(a.durationMax());
        values.add(a.latencyP50());
        values.add(a.latencyP95());
      }
      chain = chain.compose(v -> conn.preparedQuery(sql.toString()).execute(Tuple.from(values)).mapEmpty());
    }
    return chain;
  }

  /** Up to {@code limit} ids of the hour's rows with {@code id <= maxId} (those counted into its aggregates). */
  public Future<List<Long>> countedIds(long hourStart, long maxId, int limit) {
    return db.pool().preparedQuery("SELECT id FROM metrics WHERE created >= ? AND created < ? AND id <= ? LIMIT ?")
        .execute(Tuple.of(hourStart, hourStart + 3600, maxId, limit))
        .map(rows -> {
          List<Long> out = new ArrayList<>(rows.size());
          for (Row r : rows) {
            out.add(r.getLong(0));
          }
          return out;
        });
  }

  /** Deletes these rows (one short statement: callers pass at most a thousand ids). */
  public Future<Integer> delete(List<Long> ids) {
    if (ids.isEmpty()) {
      return Future.succeededFuture(0);
    }
    StringBuilder sql = new StringBuilder("DELETE FROM metrics WHERE id IN (");
    for (int i = 0; i < ids.size(); i++) {
      sql.append(i == 0 ? "" : ", ").append(ids.get(i).longValue());
    }
    return db.pool().query(sql.append(')').toString()).execute().map(r -> r.rowCount());
  }
}
