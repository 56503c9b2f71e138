package io.inferencegateway.routing;

import io.inferencegateway.config.Addresses;
import io.inferencegateway.config.Announcements;
import io.inferencegateway.metrics.GatewayMeters;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Keeps the {@link ModelRegistry} true: loads it at start and reloads it whenever a model or replica change is
 * announced on {@link Addresses#MODELS_CHANGED} (by the admin API, provisioning or, in cluster mode, another instance). Publishes breaker changes on {@link Addresses#REPLICAS_STATE} and
 * keeps one set of Prometheus meters per replica (breaker state, in flight, health, load, requests, failures, retries).
 */
public final class ModelRegistryVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(ModelRegistryVerticle.class);

  private final ModelRegistry registry;
  private final GatewayMeters meters;
  private final Announcements announcements;
  private final Map<Long, List<Meter>> replicaMeters = new HashMap<>();
  private final Map<Long, ReplicaState> metered = new HashMap<>();

  public ModelRegistryVerticle(ModelRegistry registry, GatewayMeters meters, Announcements announcements) {
    this.registry = registry;
    this.meters = meters;
    this.announcements = announcements;
  }

  @Override
  public Future<?> start() {
    registry.onBreakerChange(r -> vertx.eventBus().publish(Addresses.REPLICAS_STATE, r.stateJson()));
    MessageConsumer<JsonObject> consumer = vertx.eventBus().consumer(Addresses.MODELS_CHANGED,
        msg -> reload()
            .onComplete(ar -> announcements.applied(msg, ar.cause()))
            .onFailure(err -> log.warn("Could not reload models: {}", err.getMessage())));
    return Future.join(consumer.completion(), reload().onSuccess(v ->
        log.info("Loaded {} model(s) with {} replica(s)", registry.models().size(), registry.replicas().size())));
  }

  private Future<Void> reload() {
    return registry.reload().onSuccess(v -> syncMeters());
  }

  /** Registers meters for new replicas and removes those of replicas that are gone (or changed endpoint). */
  private void syncMeters() {
    MeterRegistry mr = meters.registry();
    Map<Long, ReplicaState> now = new HashMap<>();
    for (ReplicaState r : registry.replicas()) {
      now.put(r.id(), r);
    }
    for (Long id : new ArrayList<>(metered.keySet())) {
      ReplicaState current = now.get(id);
      if (current == null || !current.target().equals(metered.get(id).target())) {
        replicaMeters.remove(id).forEach(mr::remove);
        metered.remove(id);
      }
    }
    for (ReplicaState r : now.values()) {
      if (metered.containsKey(r.id())) {
        continue;
      }
      Tags tags = Tags.of("model", r.modelName(), "replica", Long.toString(r.id()));
      List<Meter> list = new ArrayList<>();
      list.add(Gauge.builder("gateway_replica_breaker_state", r, s -> s.breaker().state().ordinal())
          .description("Circuit breaker of a replica: 0 closed, 1 half-open, 2 open").tags(tags).register(mr));
      list.add(Gauge.builder("gateway_replica_healthy", r, s -> s.healthy() ? 1 : 0)
          .description("1 when the replica's last health check passed").tags(tags).register(mr));
      list.add(Gauge.builder("gateway_replica_in_flight", r, ReplicaState::inFlight)
          .description("Requests this gateway has in flight on the replica").tags(tags).register(mr));
      list.add(Gauge.builder("gateway_replica_vllm_waiting", r, s -> s.load() == null ? Double.NaN : s.load().waiting())
          .description("vllm:num_requests_waiting as last scraped").tags(tags).register(mr));
      list.add(Gauge.builder("gateway_replica_vllm_running", r, s -> s.load() == null ? Double.NaN : s.load().running())
          .description("vllm:num_requests_running as last scraped").tags(tags).register(mr));
      list.add(Gauge.builder("gateway_replica_kv_cache_usage", r,
              s -> s.load() == null ? Double.NaN : s.load().kvCacheUsage())
          .description("KV-cache use (0..1) as last scraped").tags(tags).register(mr));
      list.add(FunctionCounter.builder("gateway_replica_requests", r, ReplicaState::requests)
          .description("Attempts sent to the replica").tags(tags).register(mr));
      list.add(FunctionCounter.builder("gateway_replica_failures", r, ReplicaState::failures)
          .description("Attempts that failed: connect errors, timeouts, 5xx, broken streams").tags(tags).register(mr));
      list.add(FunctionCounter.builder("gateway_replica_retries", r, ReplicaState::retries)
          .description("Failed attempts retried on another replica").tags(tags).register(mr));
      replicaMeters.put(r.id(), list);
      metered.put(r.id(), r);
    }
  }
}
