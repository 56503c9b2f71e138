package io.inferencegateway.auth;

import io.inferencegateway.config.Addresses;
import io.inferencegateway.config.Announcements;
import io.inferencegateway.store.ApiKeyStore;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the {@link KeyCache} true: loads every key at start, then re-reads each key whose change is announced on
 * {@link Addresses#KEYS_CHANGED} (by the admin API of this instance or, in cluster mode, of another).
 */
public final class KeyCacheVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(KeyCacheVerticle.class);

  private final KeyCache cache;
  private final ApiKeyStore store;
  private final Announcements announcements;
  private final long maxAgeMs;
  private Future<Void> pending = Future.succeededFuture();
  private long refreshTimer = -1;

  public KeyCacheVerticle(KeyCache cache, ApiKeyStore store, Announcements announcements) {
    this(cache, store, announcements, 0);
  }

  /**
   * @param maxAgeMs every key is re-read from the database at least this often (0: only on announced changes); a
   *     safety net in cluster mode, should an announcement from another instance be lost
   */
  public KeyCacheVerticle(KeyCache cache, ApiKeyStore store, Announcements announcements, long maxAgeMs) {
    this.maxAgeMs = maxAgeMs;
    this.cache = cache;
    this.store = store;
    this.announcements = announcements;
  }

  @Override
  public Future<?> start() {
    MessageConsumer<JsonObject> consumer = vertx.eventBus().consumer(Addresses.KEYS_CHANGED, msg -> {
      Long id = msg.body().getLong("id");
      if (id == null) {
        announcements.applied(msg, null);
        return;
      }
      // one reload at a time, in order: a slow read of an earlier change must not land after a later one
      pending = pending.transform(ignored -> store.byId(id)
          .onSuccess(row -> row.ifPresentOrElse(cache::upsert, () -> cache.remove(id)))
          .onComplete(ar -> announcements.applied(msg, ar.cause()))
          .onFailure(err -> log.warn("Could not reload API key {}: {}", id, err.getMessage()))
          .<Void>mapEmpty()
          .recover(err -> Future.succeededFuture()));
    });
    if (maxAgeMs > 0) {
      refreshTimer = vertx.setPeriodic(maxAgeMs, id -> refreshAll());
    }
    return Future.join(consumer.completion(), store.all().onSuccess(rows -> {
      cache.replaceAll(rows);
      log.info("Loaded {} API key(s)", rows.size());
    }));
  }

  /** Re-reads every key, in line with the announced changes (so an older full read never lands after a newer one). */
  private void refreshAll() {
    pending = pending.transform(ignored -> store.all()
        .onSuccess(cache::replaceAll)
        .onFailure(err -> log.warn("Could not refresh the API keys: {}", err.getMessage()))
        .<Void>mapEmpty()
        .recover(err -> Future.succeededFuture()));
  }

  @Override
  public Future<?> stop() {
    if (refreshTimer >= 0) {
      vertx.cancelTimer(refreshTimer);
    }
    return Future.succeededFuture();
  }
}
