package io.inferencegateway.routing;

/** The replica with the fewest requests in flight from this gateway; ties go to the lowest id. */
public final class LeastInFlightSelector implements ReplicaSelector {

  @Override
  public ReplicaState select(ModelRoute model, RouteHints hints) {
    ReplicaState best = null;
    int bestLoad = Integer.MAX_VALUE;
    for (ReplicaState r : model.replicas()) {
      if (!r.routable() || hints.exclude().contains(r.id())) {
        continue;
      }
      int load = r.inFlight();
      if (load < bestLoad) {
        best = r;
        bestLoad = load;
      }
    }
    return best;
  }
}
