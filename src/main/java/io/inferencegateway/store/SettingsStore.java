package io.inferencegateway.store;

import io.vertx.core.Future;
import io.vertx.sqlclient.Tuple;

import java.util.Optional;

/** Gateway-wide settings kept in {@code gateway_settings} (e.g. the hash of a generated admin key). */
public final class SettingsStore {

  private final Database db;

  public SettingsStore(Database db) {
    this.db = db;
  }

  public Future<Optional<String>> get(String name) {
    return db.pool().preparedQuery("SELECT setting_value FROM gateway_settings WHERE name = ?").execute(Tuple.of(name))
        .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(rows.iterator().next().getString(0)));
  }

  public Future<Void> put(String name, String value) {
    return db.pool().preparedQuery("INSERT INTO gateway_settings (name, setting_value) VALUES (?, ?)"
            + " ON DUPLICATE KEY UPDATE setting_value = VALUES(setting_value)")
        .execute(Tuple.of(name, value)).mapEmpty();
  }

  /** Stores the value only if the setting is absent; true if this call stored it. */
  public Future<Boolean> putIfAbsent(String name, String value) {
    return db.pool().preparedQuery("INSERT IGNORE INTO gateway_settings (name, setting_value) VALUES (?, ?)")
        .execute(Tuple.of(name, value)).map(rows -> rows.rowCount() > 0);
  }
}
