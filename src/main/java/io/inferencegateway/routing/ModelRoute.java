package io.inferencegateway.routing;

import java.util.List;

/** A model and the replicas that serve it: an immutable snapshot entry (the replicas' live state is inside them). */
public record ModelRoute(long id, String name, String strategy, List<ReplicaState> replicas) {

  public boolean hasRoutableReplica() {
    for (ReplicaState r : replicas) {
      if (r.routable()) {
        return true;
      }
    }
    return false;
  }
}
