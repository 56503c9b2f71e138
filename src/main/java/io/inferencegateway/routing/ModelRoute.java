package io.inferencegateway.routing;

import java.util.List;

/**
 * A model and the replicas that serve it: an immutable snapshot entry (the replicas' live state is inside them).
 *
 * @param strategyName the strategy in use (the model's own, else the gateway's default)
 * @param strategy its instance (one per model, so round-robin turns per model)
 */
public record ModelRoute(long id, String name, String strategyName, RoutingStrategy strategy, boolean affinity,
                         List<ReplicaState> replicas) {

  public boolean hasRoutableReplica() {
    for (ReplicaState r : replicas) {
      if (r.routable()) {
        return true;
      }
    }
    return false;
  }
}
