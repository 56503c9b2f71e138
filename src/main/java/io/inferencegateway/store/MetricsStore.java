package io.inferencegateway.store;

import io.inferencegateway.metrics.UsageRecord;
import io.vertx.core.Future;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.util.List;

/** SQL for {@code metrics}: multi-row inserts, idempotent on {@code request_id}. */
public final class MetricsStore {

  private static final String INSERT = "INSERT IGNORE INTO metrics (request_id, api_key_id, model, replica_id, endpoint,"
      + " stream, created, started_at, duration, time_to_first_token, prompt_tokens, completion_tokens, total_tokens,"
      + " status, error, input, choices) VALUES ";
  private static final String ROW = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  private static final int COLUMNS = 17;

  private final Database db;

  public MetricsStore(Database db) {
    this.db = db;
  }

  /**
   * Inserts the batch as multi-row statements; rows whose request_id is already stored are skipped, not duplicated.
   * Statements have power-of-two row counts (a batch of n rows takes popcount(n) statements), so a handful of prepared
   * statements serve every batch size instead of one per size.
   */
  public Future<Void> insertBatch(List<UsageRecord> batch) {
    Future<Void> chain = Future.succeededFuture();
    int from = 0;
    for (int size = Integer.highestOneBit(Math.max(1, Math.min(batch.size(), MAX_ROWS))); from < batch.size(); ) {
      while (size > batch.size() - from) {
        size >>= 1;
      }
      List<UsageRecord> chunk = batch.subList(from, from + size);
      chain = chain.compose(v -> insertRows(chunk));
      from += size;
    }
    return chain;
  }

  private static final int MAX_ROWS = 512;

  private Future<Void> insertRows(List<UsageRecord> batch) {
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
    }
    return db.pool().preparedQuery(sql.toString()).execute(Tuple.from(values)).mapEmpty();
  }

  public Future<Long> count() {
    return db.pool().query("SELECT COUNT(*) FROM metrics").execute()
        .map(rows -> rows.iterator().next().getLong(0));
  }
}
