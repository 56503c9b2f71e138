package io.inferencegateway.scheduler;

import io.inferencegateway.config.Addresses;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.routing.UpstreamTls;
import io.inferencegateway.routing.LoadReport;
import io.inferencegateway.routing.ModelRegistry;
import io.inferencegateway.routing.ModelRoute;
import io.inferencegateway.routing.ReplicaState;
import io.inferencegateway.routing.VllmProbe;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Periodic work off the hot path, per replica: a health check ({@code /health}, then {@code /v1/models} must list the
 * model) on the health interval, marking replicas up or down and publishing changes on
 * {@link Addresses#REPLICAS_STATE}; and a scrape of vLLM's {@code /metrics} every {@code router.scrapeIntervalMs} for
 * the router's load figures. A replica that answers again rejoins the rotation (its breaker probes at once).
 *
 * <p>In cluster mode health is shared: only the leader checks, and publishes every result on
 * {@link Addresses#REPLICAS_HEALTH}, which every member (the leader included) applies; so all members agree on which
 * replicas are up, while each keeps its own circuit breakers and scrapes load itself.
 */
public final class SchedulerVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(SchedulerVerticle.class);

  private final ModelRegistry registry;
  private final GatewayConfig.Health health;
  private final GatewayConfig.Router router;
  private HttpClient client;
  private VllmProbe probe;
  private long healthTimer;
  private long scrapeTimer;
  private final BooleanSupplier checksHealth;
  private final boolean sharedHealth;
  private boolean checking;
  private boolean scraping;
  private final String upstreamCaFile;

  public SchedulerVerticle(ModelRegistry registry, GatewayConfig.Health health, GatewayConfig.Router router) {
    this(registry, health, router, null);
  }

  /** @param upstreamCaFile certificate authorities trusted for {@code https://} replicas (null: the JVM's) */
  public SchedulerVerticle(ModelRegistry registry, GatewayConfig.Health health, GatewayConfig.Router router,
                           String upstreamCaFile) {
    this(registry, health, router, upstreamCaFile, () -> true, false);
  }

  /**
   * @param checksHealth whether this instance runs the health checks now (in cluster mode: while it leads)
   * @param sharedHealth publish results on {@link Addresses#REPLICAS_HEALTH} and apply the results found there
   */
  public SchedulerVerticle(ModelRegistry registry, GatewayConfig.Health health, GatewayConfig.Router router,
                           String upstreamCaFile, BooleanSupplier checksHealth, boolean sharedHealth) {
    this.registry = registry;
    this.health = health;
    this.router = router;
    this.upstreamCaFile = upstreamCaFile;
    this.checksHealth = checksHealth;
    this.sharedHealth = sharedHealth;
  }

  @Override
  public Future<?> start() {
    client = vertx.createHttpClient(UpstreamTls.trusting(new HttpClientOptions().setKeepAlive(true)
            .setConnectTimeout((int) health.timeoutMs()), upstreamCaFile),
        new PoolOptions().setHttp1MaxSize(2));
    probe = new VllmProbe(client, health.timeoutMs());
    healthTimer = vertx.setPeriodic(health.intervalMs(), id -> checkAll());
    scrapeTimer = vertx.setPeriodic(router.scrapeIntervalMs(), id -> scrapeAll());
    if (!sharedHealth) {
      return Future.succeededFuture();
    }
    return vertx.eventBus().<JsonObject>consumer(Addresses.REPLICAS_HEALTH, msg -> applyShared(msg.body()))
        .completion();
  }

  /** A health result checked by the leader; a change is announced on REPLICAS_STATE by the leader only. */
  private void applyShared(JsonObject result) {
    Long id = result.getLong("replica_id");
    ReplicaState r = id == null ? null : registry.replica(id);
    if (r == null) {
      return;
    }
    String error = result.getString("error");
    boolean up = result.getBoolean("healthy", false);
    if (r.markHealth(up, error) && checksHealth.getAsBoolean()) {
      logChange(r, up, error);
      vertx.eventBus().publish(Addresses.REPLICAS_STATE, r.stateJson());
    }
  }

  private static void logChange(ReplicaState r, boolean up, String error) {
    if (up) {
      log.info("Replica {} ({}) is up", r.id(), r.target().baseUrl());
    } else {
      log.warn("Replica {} ({}) is down: {}", r.id(), r.target().baseUrl(), error);
    }
  }

  /** Checks every replica once; completes when all answered or timed out. */
  public Future<Void> checkAll() {
    if (checking || !checksHealth.getAsBoolean()) {
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
    return probe.ready(r.target(), model).transform(ar -> {
      String error = ar.succeeded() ? null : describe(ar.cause());
      if (sharedHealth) {
        vertx.eventBus().publish(Addresses.REPLICAS_HEALTH, new JsonObject().put("replica_id", r.id())
            .put("healthy", error == null).put("error", error));
      } else if (r.markHealth(error == null, error)) {
        logChange(r, error == null, error);
        vertx.eventBus().publish(Addresses.REPLICAS_STATE, r.stateJson());
      }
      return Future.succeededFuture();
    });
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
      scrapes.add(probe.get(r.target(), "/metrics").map(reply -> {
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

  private static String describe(Throwable err) {
    if (err == null) {
      return "unknown error";
    }
    String m = err.getMessage() == null ? err.getClass().getSimpleName() : err.getMessage();
    return err instanceof VllmProbe.NotReady ? "health check: " + m : "health check failed: " + m;
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(healthTimer);
    vertx.cancelTimer(scrapeTimer);
    return client.close();
  }
}
