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
  private VllmProbe probe;
  private long healthTimer;
  private long scrapeTimer;
  private boolean checking;
  private boolean scraping;
  private final String upstreamCaFile;

  public SchedulerVerticle(ModelRegistry registry, GatewayConfig.Health health, GatewayConfig.Router router) {
    this(registry, health, router, null);
  }

  /** @param upstreamCaFile certificate authorities trusted for {@code https://} replicas (null: the JVM's) */
  public SchedulerVerticle(ModelRegistry registry, GatewayConfig.Health health, GatewayConfig.Router router,
                           String upstreamCaFile) {
    this.registry = registry;
    this.health = health;
    this.router = router;
    this.upstreamCaFile = upstreamCaFile;
  }

  @Override
  public Future<?> start() {
    client = vertx.createHttpClient(UpstreamTls.trusting(new HttpClientOptions().setKeepAlive(true)
            .setConnectTimeout((int) health.timeoutMs()), upstreamCaFile),
        new PoolOptions().setHttp1MaxSize(2));
    probe = new VllmProbe(client, health.timeoutMs());
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
    return probe.ready(r.target(), model).transform(ar -> {
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
