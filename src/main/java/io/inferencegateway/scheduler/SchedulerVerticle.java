package io.inferencegateway.scheduler;

import io.inferencegateway.config.Addresses;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.routing.LoadReport;
import io.inferencegateway.routing.ModelRegistry;
import io.inferencegateway.routing.ModelRoute;
import io.inferencegateway.routing.ReplicaState;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * Periodic work off the hot path, per replica: a health check ({@code /health}, then {@code /v1/models} must list the
 * model) on the health interval, marking replicas up or down and publishing changes on
 * {@link Addresses#REPLICAS_STATE}; and a scrape of vLLM's {@code /metrics} every {@code router.scrapeIntervalMs} for
 * the router's load figures. A replica that answers again rejoins the rotation (its breaker probes at once).
 */
public final class SchedulerVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(SchedulerVerticle.class);

  private final ModelRegistry registry;
  private final GatewayConfig.Health health;
  private final GatewayConfig.Router router;
  private HttpClient client;
  private long healthTimer;
  private long scrapeTimer;
  private boolean checking;
  private boolean scraping;

  public SchedulerVerticle(ModelRegistry registry, GatewayConfig.Health health, GatewayConfig.Router router) {
    this.registry = registry;
    this.health = health;
    this.router = router;
  }

  @Override
  public Future<?> start() {
    client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true)
            .setConnectTimeout((int) health.timeoutMs()),
        new PoolOptions().setHttp1MaxSize(2));
    healthTimer = vertx.setPeriodic(health.intervalMs(), id -> checkAll());
    scrapeTimer = vertx.setPeriodic(router.scrapeIntervalMs(), id -> scrapeAll());
    return Future.succeededFuture();
  }

  /** Checks every replica once; completes when all answered or timed out. */
  public Future<Void> checkAll() {
    if (checking) {
      return Future.succeededFuture();
    }
    checking = true;
    List<Future<Void>> checks = new ArrayList<>();
    for (ModelRoute model : registry.models()) {
      for (ReplicaState r : model.replicas()) {
        checks.add(check(model.name(), r));
      }
    }
    return Future.join(checks).<Void>mapEmpty().recover(err -> Future.succeededFuture())
        .onComplete(ar -> checking = false);
  }

  private Future<Void> check(String model, ReplicaState r) {
    return get(r, "/health")
        .compose(resp -> resp.status() == 200 ? get(r, "/v1/models")
            : Future.failedFuture("health check answered HTTP " + resp.status()))
        .compose(resp -> servesModel(resp, model) ? Future.succeededFuture()
            : Future.failedFuture("/v1/models does not list " + model))
        .transform(ar -> {
          String error = ar.succeeded() ? null : describe(ar.cause());
          if (r.markHealth(error == null, error)) {
            if (error == null) {
              log.info("Replica {} ({}) is up", r.id(), r.target().baseUrl());
            } else {
              log.warn("Replica {} ({}) is down: {}", r.id(), r.target().baseUrl(), error);
            }
            vertx.eventBus().publish(Addresses.REPLICAS_STATE, r.stateJson());
          }
          return Future.succeededFuture();
        });
  }

  private static boolean servesModel(Reply reply, String model) {
    if (reply.status() != 200) {
      return false;
    }
    try {
      JsonArray data = new JsonObject(reply.body()).getJsonArray("data");
      if (data == null) {
        return false;
      }
      for (Object o : data) {
        if (o instanceof JsonObject m && model.equals(m.getString("id"))) {
          return true;
        }
      }
      return false;
    } catch (DecodeException | ClassCastException e) {
      return false;
    }
  }

  /** Scrapes vLLM's load figures from every healthy replica. */
  public Future<Void> scrapeAll() {
    if (scraping) {
      return Future.succeededFuture();
    }
    scraping = true;
    List<Future<Void>> scrapes = new ArrayList<>();
    for (ReplicaState r : registry.replicas()) {
      if (!r.healthy()) {
        continue;
      }
      scrapes.add(get(r, "/metrics").map(reply -> {
        if (reply.status() == 200) {
          LoadReport load = VllmMetrics.parse(reply.body().toString(), System.currentTimeMillis());
          if (load != null) {
            r.load(load);
          }
        }
        return (Void) null;
      }).recover(err -> Future.succeededFuture()));
    }
    return Future.join(scrapes).<Void>mapEmpty().recover(err -> Future.succeededFuture())
        .onComplete(ar -> scraping = false);
  }

  private record Reply(int status, Buffer body) {}

  private Future<Reply> get(ReplicaState r, String path) {
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET)
        .setHost(r.target().host()).setPort(r.target().port()).setSsl(r.target().ssl())
        .setURI(r.target().uri(path)).setTimeout(health.timeoutMs());
    return client.request(options)
        .compose(req -> req.send())
        .compose(resp -> resp.body().map(b -> new Reply(resp.statusCode(), b)));
  }

  private static String describe(Throwable err) {
    if (err == null) {
      return "unknown error";
    }
    String m = err.getMessage() == null ? err.getClass().getSimpleName() : err.getMessage();
    return m.startsWith("health check") || m.startsWith("/v1/models") ? m : "health check failed: " + m;
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(healthTimer);
    vertx.cancelTimer(scrapeTimer);
    return client.close();
  }
}
