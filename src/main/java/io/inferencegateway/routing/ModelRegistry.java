package io.inferencegateway.routing;

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

/**
 * Every model and its replicas, as an immutable snapshot the hot path reads without locks. Reloaded from the
 * database when the control plane announces a change; replicas whose endpoint did not change keep their live state.
 */
public final class ModelRegistry {

  private static final Logger log = LoggerFactory.getLogger(ModelRegistry.class);

  private final ModelStore store;
  private volatile Map<String, ModelRoute> byName = Map.of();
  private volatile Map<Long, ReplicaState> replicasById = Map.of();
  private Future<Void> lastReload = Future.succeededFuture();

  public ModelRegistry(ModelStore store) {
    this.store = store;
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

  synchronized void apply(List<ModelRow> models, List<ReplicaRow> replicas) {
    Map<Long, ReplicaState> previous = replicasById;
    Map<Long, List<ReplicaState>> byModel = new HashMap<>();
    Map<Long, ReplicaState> nextReplicas = new HashMap<>();
    for (ReplicaRow row : replicas) {
      if (row.endpoint() == null) {
        continue; // still provisioning: nothing to route to yet
      }
      UpstreamTarget target;
      try {
        target = UpstreamTarget.parse(row.endpoint());
      } catch (IllegalArgumentException e) {
        log.warn("Replica {} has an unusable endpoint and gets no traffic: {}", row.id(), e.getMessage());
        continue;
      }
      ReplicaState old = previous.get(row.id());
      ReplicaState state = old != null && old.target().equals(target) ? old.withRow(row) : new ReplicaState(row, target);
      nextReplicas.put(row.id(), state);
      byModel.computeIfAbsent(row.modelId(), k -> new ArrayList<>()).add(state);
    }
    Map<String, ModelRoute> next = new HashMap<>();
    for (ModelRow m : models) {
      next.put(m.name(), new ModelRoute(m.id(), m.name(), m.routingStrategy(),
          List.copyOf(byModel.getOrDefault(m.id(), List.of()))));
    }
    byName = Map.copyOf(next);
    replicasById = Map.copyOf(nextReplicas);
  }
}
