package io.inferencegateway.scheduler;

import io.inferencegateway.config.Addresses;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.routing.ModelRegistry;
import io.inferencegateway.routing.ReplicaState;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * Periodic work off the hot path: checks each replica's {@code /health} on an interval, marks it up or down, and
 * publishes changes on {@link Addresses#REPLICAS_STATE}. A replica that answers again rejoins the rotation.
 */
public final class SchedulerVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(SchedulerVerticle.class);

  private final ModelRegistry registry;
  private final GatewayConfig.Health settings;
  private HttpClient client;
  private long timer;
  private boolean checking;

  public SchedulerVerticle(ModelRegistry registry, GatewayConfig.Health settings) {
    this.registry = registry;
    this.settings = settings;
  }

  @Override
  public Future<?> start() {
    client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true)
        .setConnectTimeout((int) settings.timeoutMs()));
    timer = vertx.setPeriodic(settings.intervalMs(), id -> checkAll());
    return Future.succeededFuture();
  }

  /** Checks every replica once; completes when all answered or timed out. */
  public Future<Void> checkAll() {
    if (checking) {
      return Future.succeededFuture();
    }
    checking = true;
    List<Future<Void>> checks = new ArrayList<>();
    for (ReplicaState r : registry.replicas()) {
      checks.add(check(r));
    }
    return Future.join(checks).<Void>mapEmpty().recover(err -> Future.succeededFuture())
        .onComplete(ar -> checking = false);
  }

  private Future<Void> check(ReplicaState r) {
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET)
        .setHost(r.target().host()).setPort(r.target().port()).setSsl(r.target().ssl())
        .setURI(r.target().uri("/health")).setTimeout(settings.timeoutMs());
    return client.request(options)
        .compose(req -> req.send())
        .compose(resp -> resp.body().map(b -> resp.statusCode()))
        .map(status -> status == 200 ? null : "health check answered HTTP " + status)
        .recover(err -> Future.succeededFuture("health check failed: "
            + (err.getMessage() == null ? err.getClass().getSimpleName() : err.getMessage())))
        .map(error -> {
          boolean changed = r.markHealth(error == null, error);
          if (changed) {
            if (error == null) {
              log.info("Replica {} ({}) is up", r.id(), r.target().baseUrl());
            } else {
              log.warn("Replica {} ({}) is down: {}", r.id(), r.target().baseUrl(), error);
            }
            vertx.eventBus().publish(Addresses.REPLICAS_STATE, r.stateJson());
          }
          return null;
        });
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    return client.close();
  }
}
