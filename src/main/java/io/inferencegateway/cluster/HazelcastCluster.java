package io.inferencegateway.cluster;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.NodeInfo;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.util.ArrayList;
import java.util.List;

/**
 * The cluster as Vert.x's Hazelcast cluster manager sees it. The members are the cluster manager's nodes, each named by
 * the metadata it put on its event-bus node ({@link ClusterSetup#eventBus}); the leader is whoever holds the lock
 * {@value #LEADER_LOCK} (see {@link LeaderVerticle}), which records itself in the cluster map {@value #STATE_MAP}.
 */
public final class HazelcastCluster implements ClusterView {

  /** The cluster-wide lock whose holder is the leader. */
  public static final String LEADER_LOCK = "igw.leader";
  /** Cluster-wide map of the cluster's own state: {@code leader} → {@code {"node_id", "instance", "since"}}. */
  static final String STATE_MAP = "igw.cluster";
  static final String LEADER_KEY = "leader";

  private final Vertx vertx;
  private final HazelcastClusterManager manager;
  private final String self;
  private volatile boolean leader;

  public HazelcastCluster(Vertx vertx, HazelcastClusterManager manager, String self) {
    this.vertx = vertx;
    this.manager = manager;
    this.self = self;
  }

  @Override
  public boolean enabled() {
    return true;
  }

  @Override
  public String self() {
    return self;
  }

  @Override
  public boolean leader() {
    return leader;
  }

  void leader(boolean leader) {
    this.leader = leader;
  }

  String nodeId() {
    return manager.getNodeId();
  }

  @Override
  public Future<JsonObject> describe() {
    List<String> nodes = manager.getNodes();
    List<Future<JsonObject>> members = new ArrayList<>();
    for (String node : nodes) {
      Promise<NodeInfo> info = Promise.promise();
      manager.getNodeInfo(node, info);
      members.add(info.future().map(i -> {
        JsonObject meta = i.metadata();
        return new JsonObject()
            .put("instance", meta == null ? null : meta.getString(ClusterSetup.INSTANCE))
            .put("node_id", node)
            .put("event_bus", i.host() + ":" + i.port());
      }).recover(err -> Future.succeededFuture(new JsonObject().put("instance", null).put("node_id", node))));
    }
    Future<JsonObject> leaderEntry = vertx.sharedData().<String, String>getAsyncMap(STATE_MAP)
        .compose(map -> map.get(LEADER_KEY))
        .map(text -> text == null ? null : new JsonObject(text))
        .map(entry -> entry != null && nodes.contains(entry.getString("node_id")) ? entry : null)
        .recover(err -> Future.succeededFuture(null));
    return Future.all(Future.join(members), leaderEntry).map(all -> {
      JsonObject lead = leaderEntry.result();
      String leaderNode = lead == null ? null : lead.getString("node_id");
      JsonArray list = new JsonArray();
      for (Future<JsonObject> m : members) {
        JsonObject member = m.result();
        String node = member.getString("node_id");
        list.add(member.put("leader", node.equals(leaderNode)).put("self", node.equals(manager.getNodeId())));
      }
      return new JsonObject()
          .put("enabled", true)
          .put("self", self)
          .put("leader", lead == null ? null : lead.getString("instance"))
          .put("leader_since", lead == null ? null : lead.getString("since"))
          .put("members", list);
    });
  }

  /** Records this member as the leader (called by the member that just took the lock). */
  Future<Void> recordLeader(String since) {
    String entry = new JsonObject().put("node_id", manager.getNodeId()).put("instance", self).put("since", since)
        .encode();
    return vertx.sharedData().<String, String>getAsyncMap(STATE_MAP).compose(map -> map.put(LEADER_KEY, entry));
  }
}
