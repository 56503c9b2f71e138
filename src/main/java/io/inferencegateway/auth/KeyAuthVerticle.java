package io.inferencegateway.auth;

import io.inferencegateway.config.Addresses;
import io.inferencegateway.store.ApiKeyStore;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the {@link KeyCache} true: loads every key at start, then applies each change announced on
 * {@link Addresses#KEYS_CHANGED} (by the admin API of this or, through the Redis bridge, another instance).
 */
public final class KeyAuthVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(KeyAuthVerticle.class);

  private final KeyCache cache;
  private final ApiKeyStore store;
  private Future<Void> pending = Future.succeededFuture();

  public KeyAuthVerticle(KeyCache cache, ApiKeyStore store) {
    this.cache = cache;
    this.store = store;
  }

  @Override
  public Future<?> start() {
    MessageConsumer<JsonObject> consumer = vertx.eventBus().consumer(Addresses.KEYS_CHANGED, msg -> {
      Long id = msg.body().getLong("id");
      if (id == null) {
        return;
      }
      // one reload at a time, in order: a slow read of an earlier change must not land after a later one
      pending = pending.transform(ignored -> store.byId(id)
          .onSuccess(row -> row.ifPresentOrElse(cache::upsert, () -> cache.remove(id)))
          .onFailure(err -> log.warn("Could not reload API key {}: {}", id, err.getMessage()))
          .<Void>mapEmpty()
          .recover(err -> Future.succeededFuture()));
    });
    return Future.join(consumer.completion(), store.all().onSuccess(rows -> {
      cache.replaceAll(rows);
      log.info("Loaded {} API key(s)", rows.size());
    }));
  }
}
