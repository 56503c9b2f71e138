package io.inferencegateway.routing;

import java.util.Set;

/**
 * What the router may use about a request besides the model: an affinity key (prompt prefix or session) and the
 * replicas already tried for it (fail-over never retries the same replica).
 */
public record RouteHints(long affinityHash, boolean hasAffinity, Set<Long> exclude) {

  public static final RouteHints NONE = new RouteHints(0, false, Set.of());

  public RouteHints excluding(long replicaId) {
    java.util.HashSet<Long> next = new java.util.HashSet<>(exclude);
    next.add(replicaId);
    return new RouteHints(affinityHash, hasAffinity, Set.copyOf(next));
  }
}
