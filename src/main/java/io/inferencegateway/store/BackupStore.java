package io.inferencegateway.store;

import io.inferencegateway.backup.BackupOutcome;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** SQL for {@code backups}: one row per backup attempt, newest first for the admin API. */
public final class BackupStore {

  /** Errors are kept short enough for any TEXT column and any log line. */
  static final int MAX_ERROR_CHARS = 4000;

  private final Database db;

  public BackupStore(Database db) {
    this.db = db;
  }

  public Future<BackupOutcome> insert(BackupOutcome o) {
    String error = o.error() == null || o.error().length() <= MAX_ERROR_CHARS ? o.error()
        : o.error().substring(0, MAX_ERROR_CHARS);
    return db.pool().preparedQuery("INSERT INTO backups (started_at, finished_at, triggered_by, attempt, status,"
            + " file_name, size_bytes, duration_ms, sha256, s3_key, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .execute(Tuple.from(Arrays.asList(SqlValues.toDb(o.startedAt()), SqlValues.toDb(o.finishedAt()),
            o.triggeredBy(), o.attempt(), o.status(), o.fileName(), o.sizeBytes(), o.durationMs(), o.sha256(),
            o.s3Key(), error)))
        .map(rows -> o.withId(db.dialect().generatedId(rows)));
  }

  /** Newest first; {@code beforeId} (a cursor: the last id of the previous page) may be null. */
  public Future<List<BackupOutcome>> list(int limit, Long beforeId) {
    String where = beforeId == null ? "" : " WHERE id < ?";
    Tuple params = beforeId == null ? Tuple.of(limit) : Tuple.of(beforeId, limit);
    return db.pool().preparedQuery("SELECT id, started_at, finished_at, triggered_by, attempt, status, file_name,"
            + " size_bytes, sha256, s3_key, error FROM backups" + where + " ORDER BY id DESC LIMIT ?")
        .execute(params)
        .map(rows -> {
          List<BackupOutcome> out = new ArrayList<>(rows.size());
          for (Row r : rows) {
            out.add(new BackupOutcome(r.getLong("id"), SqlValues.instant(r, "started_at"),
                SqlValues.instant(r, "finished_at"), r.getString("triggered_by"), r.getInteger("attempt"),
                "succeeded".equals(r.getString("status")), r.getString("file_name"),
                SqlValues.nullableLong(r, "size_bytes"), r.getString("sha256"), r.getString("s3_key"),
                r.getString("error")));
          }
          return out;
        });
  }
}
