package io.inferencegateway.cluster;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * What this instance knows of the cluster it belongs to: its own name, whether it is the leader (the one instance that
 * runs the once-per-cluster jobs), and the members. A single instance (no {@code CLUSTER_MEMBERS}) is its own leader.
 */
public interface ClusterView {

  /** The instance outside cluster mode. */
  ClusterView SINGLE = new ClusterView() {
    @Override
    public boolean enabled() {
      return false;
    }

    @Override
    public String self() {
      return "local";
    }

    @Override
    public boolean leader() {
      return true;
    }

    @Override
    public Future<JsonObject> describe() {
      return Future.succeededFuture(new JsonObject().put("enabled", false).put("self", self()).put("leader", self())
          .put("members", new JsonArray().add(new JsonObject().put("instance", self()).put("leader", true)
              .put("self", true))));
    }
  };

  boolean enabled();

  /** This instance's name: {@code CLUSTER_HOST:CLUSTER_PORT} in cluster mode, {@code local} otherwise. */
  String self();

  /** Whether this instance runs the once-per-cluster jobs now. */
  boolean leader();

  /**
   * {@code {"enabled", "self", "leader", "members": [{"instance", "node_id", "event_bus", "leader", "self"}]}};
   * {@code leader} is null while an election is under way.
   */
  Future<JsonObject> describe();
}
