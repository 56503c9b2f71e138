package io.inferencegateway.config;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;

import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The one way control-plane changes travel: published on the event bus ({@link Addresses#KEYS_CHANGED},
 * {@link Addresses#MODELS_CHANGED}), where one component per address applies them to its in-memory snapshot (the key
 * cache, the model registry); in cluster mode every instance does. The publisher may wait until this instance has
 * applied its change, so that an admin call answers only once its change is in force here.
 */
public final class Announcements {

  /** Header naming a change, so that the component applying it can tell the publisher. */
  static final String CHANGE_ID = "change-id";

  private record Waiting(Context context, Promise<Void> promise) {}

  private final Vertx vertx;
  private final long timeoutMs;
  private final ConcurrentHashMap<String, Waiting> waiting = new ConcurrentHashMap<>();

  public Announcements(Vertx vertx, long timeoutMs) {
    this.vertx = vertx;
    this.timeoutMs = timeoutMs;
  }

  /** Publishes a change; completes (on the caller's context) once this instance has applied it. */
  public Future<Void> publish(String address, JsonObject change) {
    String id = UUID.randomUUID().toString();
    Promise<Void> promise = Promise.promise();
    waiting.put(id, new Waiting(vertx.getOrCreateContext(), promise));
    vertx.eventBus().publish(address, change, new DeliveryOptions().addHeader(CHANGE_ID, id));
    return promise.future()
        .timeout(timeoutMs, TimeUnit.MILLISECONDS)
        .onComplete(ar -> waiting.remove(id));
  }

  /** Called by the component that applies an address's changes, once it has applied (or failed to apply) one. */
  public void applied(Message<?> change, Throwable failure) {
    String id = change.headers().get(CHANGE_ID);
    Waiting w = id == null ? null : waiting.remove(id);
    if (w == null) {
      return; // published by another instance, or by someone who does not wait
    }
    w.context().runOnContext(v -> {
      if (failure == null) {
        w.promise().tryComplete();
      } else {
        w.promise().tryFail(failure);
      }
    });
  }
}
