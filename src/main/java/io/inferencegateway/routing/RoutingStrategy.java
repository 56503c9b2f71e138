package io.inferencegateway.routing;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntUnaryOperator;

/**
 * Picks one of the replicas that may take a request (all healthy, breaker closed or probing, under their rate
 * limit). Pure functions of the views, the hints and a random source.
 */
public interface RoutingStrategy {

  /** The index in {@code candidates} of the chosen replica; candidates is never empty. */
  int pick(List<ReplicaView> candidates, RouteHints hints, IntUnaryOperator random);

  static RoutingStrategy named(String name) {
    return switch (name == null ? "p2c" : name) {
      case "round-robin" -> new RoundRobin();
      case "least-in-flight" -> LEAST_IN_FLIGHT;
      case "weighted" -> WEIGHTED;
      case "p2c" -> POWER_OF_TWO;
      default -> throw new IllegalArgumentException("unknown routing strategy " + name);
    };
  }

  /** Two replicas drawn at random, the less loaded one wins: near-best balance without herding on one replica. */
  RoutingStrategy POWER_OF_TWO = (candidates, hints, random) -> {
    int n = candidates.size();
    if (n == 1) {
      return 0;
    }
    int a = random.applyAsInt(n);
    int b = random.applyAsInt(n - 1);
    if (b >= a) {
      b++;
    }
    double sa = candidates.get(a).score();
    double sb = candidates.get(b).score();
    return sa <= sb ? a : b;
  };

  /** Fewest requests in flight from this gateway; the first such replica on ties. */
  RoutingStrategy LEAST_IN_FLIGHT = (candidates, hints, random) -> {
    int best = 0;
    for (int i = 1; i < candidates.size(); i++) {
      if (candidates.get(i).inFlight() < candidates.get(best).inFlight()) {
        best = i;
      }
    }
    return best;
  };

  /** Random in proportion to weight. */
  RoutingStrategy WEIGHTED = (candidates, hints, random) -> {
    int total = 0;
    for (ReplicaView v : candidates) {
      total += Math.max(1, v.weight());
    }
    int r = random.applyAsInt(total);
    for (int i = 0; i < candidates.size(); i++) {
      r -= Math.max(1, candidates.get(i).weight());
      if (r < 0) {
        return i;
      }
    }
    return candidates.size() - 1;
  };

  /** Each replica in turn (per model: the router keeps one instance per model). */
  final class RoundRobin implements RoutingStrategy {
    private final AtomicLong next = new AtomicLong();

    @Override
    public int pick(List<ReplicaView> candidates, RouteHints hints, IntUnaryOperator random) {
      return (int) Math.floorMod(next.getAndIncrement(), (long) candidates.size());
    }
  }
}
