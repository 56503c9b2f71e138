package io.inferencegateway.routing;

/** Picks the replica that serves a request. Implementations are pure functions of the snapshot and the hints. */
public interface ReplicaSelector {

  /** The chosen replica, or null when none may take the request. */
  ReplicaState select(ModelRoute model, RouteHints hints);
}
