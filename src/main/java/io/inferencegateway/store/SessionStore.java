package io.inferencegateway.store;

import io.vertx.core.Future;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;

/**
 * Revoked console sessions ({@code revoked_sessions}): the token id ({@code jti}) of each logged-out session, kept until
 * the token would have expired anyway (then it is refused for its {@code exp} alone, and the row is deleted).
 */
public final class SessionStore {

  private final Database db;

  public SessionStore(Database db) {
    this.db = db;
  }

  /** Records the token id as revoked (idempotent), and deletes rows of tokens that have expired by {@code now}. */
  public Future<Void> revoke(String jti, Instant expiresAt, Instant now) {
    return db.pool().preparedQuery("INSERT IGNORE INTO revoked_sessions (jti, expires_at) VALUES (?, ?)")
        .execute(Tuple.of(jti, SqlValues.toDb(expiresAt)))
        .compose(v -> db.pool().preparedQuery("DELETE FROM revoked_sessions WHERE expires_at < ?")
            .execute(Tuple.of(SqlValues.toDb(now))))
        .mapEmpty();
  }

  public Future<Boolean> isRevoked(String jti) {
    return db.pool().preparedQuery("SELECT 1 FROM revoked_sessions WHERE jti = ?").execute(Tuple.of(jti))
        .map(rows -> rows.size() > 0);
  }
}
