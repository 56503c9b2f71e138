package io.inferencegateway.store;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/** SQL for {@code api_keys}. */
public final class ApiKeyStore {

  private static final String COLUMNS = "id, user_id, key_hash, key_prefix, allowed_rpm, allowed_tpm, models, enabled,"
      + " expires_at, created_at, last_used_at, priority, max_concurrent_requests, queue_weight";

  private final Database db;

  public ApiKeyStore(Database db) {
    this.db = db;
  }

  /** A key to create; the admission settings may be null (defaults). */
  public record NewApiKey(String userId, String keyHash, String keyPrefix, int allowedRpm, Integer allowedTpm,
                          List<String> models, Instant expiresAt, Integer priority, Integer maxConcurrentRequests,
                          Integer queueWeight) {

    public NewApiKey(String userId, String keyHash, String keyPrefix, int allowedRpm, Integer allowedTpm,
                     List<String> models, Instant expiresAt) {
      this(userId, keyHash, keyPrefix, allowedRpm, allowedTpm, models, expiresAt, null, null, null);
    }
  }

  public Future<ApiKeyRow> insert(NewApiKey k) {
    Instant now = Instant.now();
    return db.pool().preparedQuery("INSERT INTO api_keys (user_id, key_hash, key_prefix, allowed_rpm, allowed_tpm, models,"
            + " enabled, expires_at, created_at, priority, max_concurrent_requests, queue_weight)"
            + " VALUES (?, ?, ?, ?, ?, ?, TRUE, ?, ?, ?, ?, ?)")
        .execute(Tuple.tuple(java.util.Arrays.asList(k.userId(), k.keyHash(), k.keyPrefix(), k.allowedRpm(),
            k.allowedTpm(), k.models() == null ? null : new JsonArray(k.models()).encode(),
            SqlValues.toDb(k.expiresAt()), SqlValues.toDb(now), k.priority(), k.maxConcurrentRequests(),
            k.queueWeight())))
        .map(rows -> new ApiKeyRow(db.dialect().generatedId(rows), k.userId(), k.keyHash(), k.keyPrefix(), k.allowedRpm(),
            k.allowedTpm(), k.models(), true, k.expiresAt(), now, null, k.priority(), k.maxConcurrentRequests(),
            k.queueWeight()));
  }

  /** Sets a key's fair-admission settings (null: the default); false if there is no such key. */
  public Future<Boolean> setAdmission(long id, Integer priority, Integer maxConcurrentRequests, Integer queueWeight) {
    return db.pool().preparedQuery("UPDATE api_keys SET priority = ?, max_concurrent_requests = ?, queue_weight = ?"
            + " WHERE id = ?")
        .execute(Tuple.tuple(java.util.Arrays.asList(priority, maxConcurrentRequests, queueWeight, id)))
        .map(rows -> rows.rowCount() > 0);
  }

  public Future<List<ApiKeyRow>> all() {
    return db.pool().query("SELECT " + COLUMNS + " FROM api_keys ORDER BY id").execute().map(ApiKeyStore::rows);
  }

  public Future<Optional<ApiKeyRow>> byId(long id) {
    return db.pool().preparedQuery("SELECT " + COLUMNS + " FROM api_keys WHERE id = ?").execute(Tuple.of(id))
        .map(rows -> rows(rows).stream().findFirst());
  }

  public Future<Optional<ApiKeyRow>> byHash(String hash) {
    return db.pool().preparedQuery("SELECT " + COLUMNS + " FROM api_keys WHERE key_hash = ?").execute(Tuple.of(hash))
        .map(rows -> rows(rows).stream().findFirst());
  }

  public Future<Boolean> hasUsage(long id) {
    return db.pool().preparedQuery("SELECT 1 FROM metrics WHERE api_key_id = ? LIMIT 1").execute(Tuple.of(id))
        .map(rows -> rows.size() > 0);
  }

  public Future<Boolean> delete(long id) {
    return db.pool().preparedQuery("DELETE FROM api_keys WHERE id = ?").execute(Tuple.of(id))
        .map(rows -> rows.rowCount() > 0);
  }

  public Future<Boolean> setEnabled(long id, boolean enabled) {
    return db.pool().preparedQuery("UPDATE api_keys SET enabled = ? WHERE id = ?").execute(Tuple.of(enabled, id))
        .map(rows -> rows.rowCount() > 0);
  }

  /** One statement for all keys used since the last flush (called by the metrics writer, not per request). */
  public Future<Void> touchLastUsed(Collection<Long> ids, Instant at) {
    if (ids.isEmpty()) {
      return Future.succeededFuture();
    }
    String marks = ids.stream().map(i -> "?").collect(Collectors.joining(", "));
    Tuple t = Tuple.tuple().addValue(SqlValues.toDb(at));
    ids.forEach(t::addValue);
    return db.pool().preparedQuery("UPDATE api_keys SET last_used_at = ? WHERE id IN (" + marks + ")").execute(t)
        .mapEmpty();
  }

  private static List<ApiKeyRow> rows(RowSet<Row> rows) {
    List<ApiKeyRow> out = new ArrayList<>(rows.size());
    for (Row r : rows) {
      String models = r.getString("models");
      out.add(new ApiKeyRow(r.getLong("id"), r.getString("user_id"), r.getString("key_hash"), r.getString("key_prefix"),
          r.getInteger("allowed_rpm"), SqlValues.nullableInt(r, "allowed_tpm"),
          models == null ? null : new JsonArray(models).stream().map(String::valueOf).toList(),
          SqlValues.bool(r, "enabled"), SqlValues.instant(r, "expires_at"), SqlValues.instant(r, "created_at"),
          SqlValues.instant(r, "last_used_at"), SqlValues.nullableInt(r, "priority"),
          SqlValues.nullableInt(r, "max_concurrent_requests"), SqlValues.nullableInt(r, "queue_weight")));
    }
    return out;
  }
}
