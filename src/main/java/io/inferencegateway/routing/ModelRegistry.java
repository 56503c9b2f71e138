package io.inferencegateway.routing;

import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.store.ModelRow;
import io.inferencegateway.store.ModelStore;
import io.inferencegateway.store.ReplicaRow;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Every model and its replicas, as an immutable snapshot the hot path reads without locks. Reloaded from the
 * database when the control plane announces a change; replicas whose endpoint did not change keep their live state
 * (in-flight count, breaker, load).
 */
public final class ModelRegistry {

  private static final Logger log = LoggerFactory.getLogger(ModelRegistry.class);

  private final ModelStore store;
  private final GatewayConfig.Router settings;
  private volatile Map<String, ModelRoute> byName = Map.of();
  private volatile Map<Long, ReplicaState> replicasById = Map.of();
  private volatile Consumer<ReplicaState> breakerChanged = r -> { };
  private Future<Void> lastReload = Future.succeededFuture();

  public ModelRegistry(ModelStore store, GatewayConfig.Router settings) {
    this.store = store;
    this.settings = settings;
  }

  /** Called (from any thread) when a replica's breaker changes state. */
  public void onBreakerChange(Consumer<ReplicaState> listener) {
    this.breakerChanged = listener;
  }

  public ModelRoute model(String name) {
    return byName.get(name);
  }

  public Collection<ModelRoute> models() {
    return byName.values();
  }

  public ReplicaState replica(long id) {
    return replicasById.get(id);
  }

  public Collection<ReplicaState> replicas() {
    return replicasById.values();
  }

  /**
   * Re-reads every model and replica (both tables are small) and swaps the snapshot. Reloads run one after the other
   * in call order, so a slow earlier read can never overwrite the snapshot of a later one.
   */
  public synchronized Future<Void> reload() {
    Future<Void> next = lastReload.transform(ignored -> Future.all(store.models(), store.replicas()).map(all -> {
      List<ModelRow> models = all.resultAt(0);
      List<ReplicaRow> replicas = all.resultAt(1);
      apply(models, replicas);
      return null;
    }));
    lastReload = next;
    return next;
  }

  /** Swaps in the snapshot of these rows (what {@link #reload} does with what it read). */
  public synchronized void apply(List<ModelRow> models, List<ReplicaRow> replicas) {
    Map<Long, String> modelNames = new HashMap<>();
    for (ModelRow m : models) {
      modelNames.put(m.id(), m.name());
    }
    Map<Long, ReplicaState> previous = replicasById;
    Map<Long, List<ReplicaState>> byModel = new HashMap<>();
    Map<Long, ReplicaState> nextReplicas = new HashMap<>();
    for (ReplicaRow row : replicas) {
      if (row.endpoint() == null || !modelNames.containsKey(row.modelId())) {
        continue; // still provisioning, or its model is being deleted: nothing to route to
      }
      UpstreamTarget target;
      try {
        target = UpstreamTarget.parse(row.endpoint()).withApiKey(row.apiKey());
      } catch (IllegalArgumentException e) {
        log.warn("Replica {} has an unusable endpoint and gets no traffic: {}", row.id(), e.getMessage());
        continue;
      }
      String modelName = modelNames.get(row.modelId());
      ReplicaState old = previous.get(row.id());
      ReplicaState state;
      if (old != null && old.target().equals(target)) {
        state = old.withRow(row, modelName);
      } else {
        state = new ReplicaState(row, modelName, target, settings.breaker());
        ReplicaState created = state;
        state.breaker().listener((from, to, reason) -> {
          if (to == CircuitBreaker.State.OPEN) {
            log.warn("Replica {} ({}) breaker {} -> {}: {}", created.id(), created.target().baseUrl(), from, to, reason);
          } else {
            log.info("Replica {} ({}) breaker {} -> {}: {}", created.id(), created.target().baseUrl(), from, to, reason);
          }
          breakerChanged.accept(created);
        });
      }
      nextReplicas.put(row.id(), state);
      byModel.computeIfAbsent(row.modelId(), k -> new ArrayList<>()).add(state);
    }
    Map<String, ModelRoute> next = new HashMap<>();
    Map<String, ModelRoute> current = byName;
    for (ModelRow m : models) {
      String strategyName = m.routingStrategy() != null ? m.routingStrategy() : settings.strategy();
      ModelRoute old = current.get(m.name());
      RoutingStrategy strategy = old != null && old.strategyName().equals(strategyName) ? old.strategy()
          : strategyOrDefault(strategyName, m.name());
      next.put(m.name(), new ModelRoute(m.id(), m.name(), strategyName, strategy, settings.prefixAffinity(),
          List.copyOf(byModel.getOrDefault(m.id(), List.of()))));
    }
    byName = Map.copyOf(next);
    replicasById = Map.copyOf(nextReplicas);
  }

  private RoutingStrategy strategyOrDefault(String name, String model) {
    try {
      return RoutingStrategy.named(name);
    } catch (IllegalArgumentException e) {
      log.warn("Model {} names an unknown routing strategy '{}'; using {}", model, name, settings.strategy());
      return RoutingStrategy.named(settings.strategy());
    }
  }
}
