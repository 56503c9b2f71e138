package io.inferencegateway.store;

import io.inferencegateway.metrics.UsageRecord;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** SQL for {@code metrics}: multi-row inserts, idempotent on {@code request_id}; time-bucketed usage for charts. */
public final class MetricsStore {

  private static final String INSERT = "INSERT IGNORE INTO metrics (request_id, api_key_id, model, replica_id, endpoint,"
      + " stream, created, started_at, duration, time_to_first_token, prompt_tokens, completion_tokens, total_tokens,"
      + " status, error, input, choices, resumes, replicas) VALUES ";
  private static final String ROW = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  private static final int COLUMNS = 19;

  private final Database db;

  public MetricsStore(Database db) {
    this.db = db;
  }

  /**
   * Inserts the batch in one transaction (one commit, one log flush); rows whose request_id is already stored are
   * skipped, not duplicated. On MariaDB/MySQL the rows go as multi-row statements of literals (see {@link SqlLiterals}
   * for why and why that is safe); on H2 as prepared multi-row statements.
   */
  public Future<Void> insertBatch(List<UsageRecord> batch) {
    if (batch.isEmpty()) {
      return Future.succeededFuture();
    }
    return db.inTransaction(conn -> db.dialect() == Dialect.MYSQL ? insertAsText(conn, batch) : insertPrepared(conn, batch));
  }

  /** Statements stay well under MariaDB's default max_allowed_packet (16 MiB) even with stored prompts and answers. */
  private static final int MAX_STATEMENT_CHARS = 1 << 20;

  private Future<Void> insertAsText(SqlConnection conn, List<UsageRecord> batch) {
    List<String> statements = new ArrayList<>(1);
    StringBuilder sql = null;
    for (UsageRecord r : batch) {
      if (sql != null && sql.length() >= MAX_STATEMENT_CHARS) {
        statements.add(sql.toString());
        sql = null;
      }
      if (sql == null) {
        sql = new StringBuilder(INSERT.length() + Math.min(batch.size(), 512) * 256).append(INSERT).append('(');
      } else {
        sql.append(", (");
      }
      SqlLiterals.string(sql, r.requestId()).append(", ");
      SqlLiterals.number(sql, r.apiKeyId()).append(", ");
      SqlLiterals.string(sql, r.model()).append(", ");
      SqlLiterals.number(sql, r.replicaId()).append(", ");
      SqlLiterals.string(sql, r.endpoint()).append(", ");
      SqlLiterals.bool(sql, r.stream()).append(", ");
      sql.append(r.startedAtMs() / 1000).append(", ");
      SqlLiterals.datetime(sql, r.startedAtMs()).append(", ");
      SqlLiterals.number(sql, r.durationNanos() / 1e9).append(", ");
      if (r.ttftNanos() < 0) {
        sql.append("NULL, ");
      } else {
        SqlLiterals.number(sql, r.ttftNanos() / 1e9).append(", ");
      }
      sql.append(r.promptTokens()).append(", ").append(r.completionTokens()).append(", ").append(r.totalTokens())
          .append(", ").append(r.status()).append(", ");
      SqlLiterals.string(sql, r.error()).append(", ");
      SqlLiterals.string(sql, r.input()).append(", ");
      SqlLiterals.string(sql, r.output()).append(", ");
      sql.append(r.resumes()).append(", ");
      SqlLiterals.string(sql, r.replicas()).append(')');
    }
    statements.add(sql.toString());
    Future<Void> chain = Future.succeededFuture();
    for (String statement : statements) {
      chain = chain.compose(v -> conn.query(statement).execute().mapEmpty());
    }
    return chain;
  }

  /**
   * Statements have power-of-two row counts (a batch of n rows takes popcount(n) statements), so a handful of prepared
   * statements serve every batch size instead of one per size.
   */
  private Future<Void> insertPrepared(SqlConnection conn, List<UsageRecord> batch) {
    Future<Void> chain = Future.succeededFuture();
    int from = 0;
    for (int size = Integer.highestOneBit(Math.min(batch.size(), MAX_ROWS)); from < batch.size(); ) {
      while (size > batch.size() - from) {
        size >>= 1;
      }
      List<UsageRecord> chunk = batch.subList(from, from + size);
      chain = chain.compose(v -> insertRows(conn, chunk));
      from += size;
    }
    return chain;
  }

  private static final int MAX_ROWS = 512;

  private Future<Void> insertRows(SqlConnection conn, List<UsageRecord> batch) {
    StringBuilder sql = new StringBuilder(INSERT.length() + batch.size() * (ROW.length() + 2)).append(INSERT);
    Object[] values = new Object[batch.size() * COLUMNS];
    int i = 0;
    for (int n = 0; n < batch.size(); n++) {
      if (n > 0) {
        sql.append(", ");
      }
      sql.append(ROW);
      UsageRecord r = batch.get(n);
      values[i++] = r.requestId();
      values[i++] = r.apiKeyId();
      values[i++] = r.model();
      values[i++] = r.replicaId();
      values[i++] = r.endpoint();
      values[i++] = r.stream();
      values[i++] = r.startedAtMs() / 1000;
      values[i++] = SqlValues.toDb(Instant.ofEpochMilli(r.startedAtMs()));
      values[i++] = r.durationNanos() / 1e9;
      values[i++] = r.ttftNanos() < 0 ? null : r.ttftNanos() / 1e9;
      values[i++] = r.promptTokens();
      values[i++] = r.completionTokens();
      values[i++] = r.totalTokens();
      values[i++] = r.status();
      values[i++] = r.error();
      values[i++] = r.input();
      values[i++] = r.output();
      values[i++] = r.resumes();
      values[i++] = r.replicas();
    }
    return conn.preparedQuery(sql.toString()).execute(Tuple.from(values)).mapEmpty();
  }

  public Future<Long> count() {
    return db.pool().query("SELECT COUNT(*) FROM metrics").execute()
        .map(rows -> rows.iterator().next().getLong(0));
  }

  // ---- usage over time (GET /api/v1/usage/series)

  /** What usage is grouped by besides time; the column is fixed here, never taken from a request. */
  public enum GroupBy {
    NONE(null, "none"), MODEL("model", "model"), API_KEY("api_key_id", "api_key");

    private final String column;
    /** The {@code metrics_hourly.grouped_by} value of aggregates at this grouping. */
    private final String rollup;

    GroupBy(String column, String rollup) {
      this.column = column;
      this.rollup = rollup;
    }
  }

  /** Totals of one time bucket (bucket number = {@code created / bucketSeconds}, rounded down) and group. */
  public record BucketTotals(long bucket, Object group, long requests, long errors, long promptTokens,
                             long completionTokens, double avgDuration, double maxDuration) {}

  /** One request's duration, with its bucket and group, for exact latency percentiles. */
  public record BucketDuration(long bucket, Object group, double duration) {}

  /**
   * One rolled-up hour's totals (see the {@code retention} package), in the bucket its hour starts in: usage older
   * than the retention period has a resolution of one hour. Its percentiles are exact for the hour and group.
   */
  public record HourlyTotals(long bucket, Object group, long requests, long errors, long promptTokens,
                             long completionTokens, double durationSum, double durationMax, double latencyP50,
                             double latencyP95) {}

  /**
   * The time (epoch seconds) from which usage is read from raw rows: every hour before it was rolled up into
   * {@code metrics_hourly} (raw rows left there are being deleted and are not counted again). 0 if none was.
   */
  public Future<Long> rolledUpTo() {
    return db.pool().query("SELECT MAX(hour_start) FROM metrics_rollups").execute().map(rows -> {
      Long last = SqlValues.nullableLong(rows.iterator().next(), 0);
      return last == null ? 0L : last + 3600;
    });
  }

  /** Rolled-up hours starting in {@code [from, to)}, at the grouping asked for. */
  public Future<List<HourlyTotals>> hourlyTotals(long from, long to, int bucketSeconds, GroupBy groupBy) {
    String bucket = "FLOOR(hour_start / " + checkedBucket(bucketSeconds) + ")";
    String sql = "SELECT " + bucket + " AS bucket, " + (groupBy.column == null ? "NULL" : groupBy.column) + " AS grp,"
        + " requests, errors, prompt_tokens, completion_tokens, duration_sum, duration_max, latency_p50, latency_p95"
        + " FROM metrics_hourly WHERE grouped_by = ? AND hour_start >= ? AND hour_start < ? ORDER BY hour_start";
    return db.pool().preparedQuery(sql).execute(Tuple.of(groupBy.rollup, from, to)).map(rows -> {
      List<HourlyTotals> out = new ArrayList<>(rows.size());
      for (var r : rows) {
        out.add(new HourlyTotals(number(r.getValue("bucket")).longValue(), SqlValues.jsonValue(r.getValue("grp")),
            number(r.getValue("requests")).longValue(), number(r.getValue("errors")).longValue(),
            number(r.getValue("prompt_tokens")).longValue(), number(r.getValue("completion_tokens")).longValue(),
            number(r.getValue("duration_sum")).doubleValue(), number(r.getValue("duration_max")).doubleValue(),
            number(r.getValue("latency_p50")).doubleValue(), number(r.getValue("latency_p95")).doubleValue()));
      }
      return out;
    });
  }

  /** Per model in {@code [from, to)}: streams, streams resumed on another replica, and resumes in all. */
  public record ResumeTotals(String model, long streams, long resumedStreams, long resumes, long failedStreams) {}

  public Future<List<ResumeTotals>> resumeTotals(long from, long to) {
    String sql = "SELECT model, COUNT(*) AS streams,"
        + " SUM(CASE WHEN resumes > 0 THEN 1 ELSE 0 END) AS resumed, SUM(COALESCE(resumes, 0)) AS resumes,"
        + " SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END) AS failed"
        + " FROM metrics WHERE created >= ? AND created < ? AND stream = TRUE GROUP BY model ORDER BY model";
    return db.pool().preparedQuery(sql).execute(Tuple.of(from, to)).map(rows -> {
      List<ResumeTotals> out = new ArrayList<>(rows.size());
      for (var r : rows) {
        out.add(new ResumeTotals(r.getString("model"), number(r.getValue("streams")).longValue(),
            number(r.getValue("resumed")).longValue(), number(r.getValue("resumes")).longValue(),
            number(r.getValue("failed")).longValue()));
      }
      return out;
    });
  }

  /** A request whose stream was resumed. */
  public record ResumedRequest(String requestId, String model, long startedAt, int resumes, String replicas,
                               int status, int completionTokens) {}

  /** The latest resumed requests in {@code [from, to)}, newest first. */
  public Future<List<ResumedRequest>> resumedRequests(long from, long to, int limit) {
    String sql = "SELECT request_id, model, created, resumes, replicas, status, completion_tokens FROM metrics"
        + " WHERE created >= ? AND created < ? AND resumes > 0 ORDER BY created DESC, id DESC LIMIT " + limit;
    return db.pool().preparedQuery(sql).execute(Tuple.of(from, to)).map(rows -> {
      List<ResumedRequest> out = new ArrayList<>(rows.size());
      for (var r : rows) {
        out.add(new ResumedRequest(r.getString("request_id"), r.getString("model"),
            number(r.getValue("created")).longValue(), number(r.getValue("resumes")).intValue(),
            r.getString("replicas"), number(r.getValue("status")).intValue(),
            number(r.getValue("completion_tokens")).intValue()));
      }
      return out;
    });
  }

  /** Requests started in {@code [from, to)} (epoch seconds). */
  public Future<Long> countBetween(long from, long to) {
    return db.pool().preparedQuery("SELECT COUNT(*) FROM metrics WHERE created >= ? AND created < ?")
        .execute(Tuple.of(from, to)).map(rows -> rows.iterator().next().getLong(0));
  }

  /**
   * Per bucket and group: requests, errors (status 400 and above), tokens, mean and max duration. The bucket size is
   * a validated positive number written into the SQL as a literal, so that the same expression appears in SELECT and
   * GROUP BY (H2 and MySQL do not see two {@code ?} as the same expression); FLOOR makes the division integral on both.
   */
  public Future<List<BucketTotals>> bucketTotals(long from, long to, int bucketSeconds, GroupBy groupBy) {
    String bucket = bucketExpression(bucketSeconds);
    String group = groupBy.column == null ? "" : ", " + groupBy.column;
    String sql = "SELECT " + bucket + " AS bucket" + (groupBy.column == null ? ", NULL" : group) + " AS grp,"
        + " COUNT(*) AS requests, SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END) AS errors,"
        + " SUM(prompt_tokens) AS prompt_tokens, SUM(completion_tokens) AS completion_tokens,"
        + " AVG(duration) AS avg_duration, MAX(duration) AS max_duration"
        + " FROM metrics WHERE created >= ? AND created < ? GROUP BY " + bucket + group
        + " ORDER BY bucket";
    return db.pool().preparedQuery(sql).execute(Tuple.of(from, to)).map(rows -> {
      List<BucketTotals> out = new ArrayList<>(rows.size());
      for (var r : rows) {
        out.add(new BucketTotals(number(r.getValue("bucket")).longValue(), SqlValues.jsonValue(r.getValue("grp")),
            number(r.getValue("requests")).longValue(), number(r.getValue("errors")).longValue(),
            number(r.getValue("prompt_tokens")).longValue(), number(r.getValue("completion_tokens")).longValue(),
            number(r.getValue("avg_duration")).doubleValue(), number(r.getValue("max_duration")).doubleValue()));
      }
      return out;
    });
  }

  /** Every request's duration in {@code [from, to)} with its bucket and group (callers bound the row count first). */
  public Future<List<BucketDuration>> bucketDurations(long from, long to, int bucketSeconds, GroupBy groupBy) {
    String sql = "SELECT " + bucketExpression(bucketSeconds) + " AS bucket, "
        + (groupBy.column == null ? "NULL" : groupBy.column) + " AS grp, duration"
        + " FROM metrics WHERE created >= ? AND created < ?";
    return db.pool().preparedQuery(sql).execute(Tuple.of(from, to)).map(rows -> {
      List<BucketDuration> out = new ArrayList<>(rows.size());
      for (var r : rows) {
        out.add(new BucketDuration(number(r.getValue("bucket")).longValue(), SqlValues.jsonValue(r.getValue("grp")),
            number(r.getValue("duration")).doubleValue()));
      }
      return out;
    });
  }

  private static String bucketExpression(int bucketSeconds) {
    return "FLOOR(created / " + checkedBucket(bucketSeconds) + ")";
  }

  private static int checkedBucket(int bucketSeconds) {
    if (bucketSeconds <= 0) {
      throw new IllegalArgumentException("bucket must be positive");
    }
    return bucketSeconds;
  }

  private static Number number(Object v) {
    if (v == null) {
      return 0;
    }
    if (v instanceof Number n) {
      return n;
    }
    return Double.parseDouble(v.toString());
  }
}
