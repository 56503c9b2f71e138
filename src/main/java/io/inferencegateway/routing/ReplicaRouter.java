package io.inferencegateway.routing;

import io.inferencegateway.config.GatewayConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.IntUnaryOperator;

/**
 * Chooses the replica for each attempt of a request: among replicas that are healthy, not excluded (already tried),
 * whose breaker lets traffic through and that are under their own requests-per-minute limit, prefix affinity first
 * (when on and not overloaded), else the model's strategy. Reads only the in-memory snapshot.
 */
public final class ReplicaRouter {

  private static final IntUnaryOperator RANDOM = bound -> ThreadLocalRandom.current().nextInt(bound);

  private final GatewayConfig.Router settings;

  public ReplicaRouter(GatewayConfig.Router settings) {
    this.settings = settings;
  }

  public Choice choose(ModelRoute model, RouteHints hints) {
    return choose(model, hints, System.currentTimeMillis(), RANDOM);
  }

  Choice choose(ModelRoute model, RouteHints hints, long nowMs, IntUnaryOperator random) {
    List<ReplicaState> replicas = model.replicas();
    List<ReplicaState> eligible = new ArrayList<>(replicas.size());
    List<ReplicaView> views = new ArrayList<>(replicas.size());
    boolean anyUp = false;
    long soonest = Long.MAX_VALUE;
    for (ReplicaState r : replicas) {
      if (!r.routable() || hints.exclude().contains(r.id()) || !r.breaker().mayAllow(nowMs)) {
        continue;
      }
      anyUp = true;
      long wait = r.rateLimitWaitMs(nowMs);
      if (wait > 0) {
        soonest = Math.min(soonest, wait);
        continue;
      }
      eligible.add(r);
      views.add(r.view(nowMs, settings.loadStaleMs()));
    }
    while (!eligible.isEmpty()) {
      int i = pick(model, views, hints, random);
      ReplicaState chosen = eligible.get(i);
      if (chosen.breaker().tryAcquire(nowMs)) {
        if (chosen.tryTakeRate(nowMs)) {
          return Choice.of(chosen);
        }
        chosen.breaker().release();
      }
      // lost a race with another event loop (probe taken, last token taken): choose among the others
      eligible.remove(i);
      views.remove(i);
    }
    return anyUp && soonest != Long.MAX_VALUE ? Choice.busy(soonest) : Choice.NONE;
  }

  private static int pick(ModelRoute model, List<ReplicaView> views, RouteHints hints, IntUnaryOperator random) {
    if (model.affinity() && hints.hasAffinity()) {
      int preferred = PrefixAffinity.preferred(views, hints.affinityHash());
      if (preferred >= 0) {
        return preferred;
      }
    }
    return model.strategy().pick(views, hints, random);
  }
}
