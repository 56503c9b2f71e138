package io.inferencegateway.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.MultiMapConfig;
import com.hazelcast.config.NetworkConfig;
import io.inferencegateway.config.GatewayConfig;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

/**
 * Cluster mode's wiring, all in code (no {@code cluster.xml}): a Hazelcast member on {@code CLUSTER_HOST:CLUSTER_PORT}
 * that finds the others through the TCP member list only (no multicast, no cloud auto-detection: neither works on
 * most clouds), and Vert.x's clustered event bus on {@code CLUSTER_PORT + 1} of the same address.
 */
public final class ClusterSetup {

  /** Hazelcast's cluster name: members of other programs that reach the port do not join. */
  public static final String CLUSTER_NAME = "inference-gateway";
  /** Event-bus node metadata key carrying the member's {@link ClusterView#self()} name. */
  static final String INSTANCE = "instance";

  private ClusterSetup() {}

  /** The Hazelcast configuration of this member. */
  public static Config hazelcast(GatewayConfig.Cluster cluster) {
    Config hz = new Config();
    hz.setClusterName(CLUSTER_NAME);
    hz.setProperty("hazelcast.logging.type", "slf4j");
    hz.setProperty("hazelcast.phone.home.enabled", "false");
    // members listed up front: no need to wait (default 5 s) for more before joining
    hz.setProperty("hazelcast.wait.seconds.before.join", "0");
    // a frozen member (not a dead one: its closed connections tell at once) is dropped after 15 s, not 60
    hz.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    hz.setProperty("hazelcast.max.no.heartbeat.seconds", "15");
    NetworkConfig net = hz.getNetworkConfig();
    net.setPort(cluster.port()).setPortAutoIncrement(false);
    net.getRestApiConfig().setEnabled(false);
    if (isIpLiteral(cluster.host())) {
      net.getInterfaces().setEnabled(true).addInterface(cluster.host());
      hz.setProperty("hazelcast.socket.bind.any", "false");
    } else {
      net.setPublicAddress(cluster.host() + ":" + cluster.port());
    }
    JoinConfig join = net.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setMembers(cluster.members());
    // the structures of vertx-hazelcast's bundled default configuration, which the event bus relies on
    hz.addMultiMapConfig(new MultiMapConfig("__vertx.subs").setBackupCount(1)
        .setValueCollectionType(MultiMapConfig.ValueCollectionType.SET));
    hz.addMapConfig(new MapConfig("__vertx.haInfo").setBackupCount(1));
    hz.addMapConfig(new MapConfig("__vertx.nodeInfo").setBackupCount(1));
    return hz;
  }

  public static HazelcastClusterManager clusterManager(GatewayConfig.Cluster cluster) {
    return new HazelcastClusterManager(hazelcast(cluster));
  }

  /** Puts the clustered event bus on {@code host:port+1} and names this member in its node metadata. */
  public static VertxOptions eventBus(VertxOptions options, GatewayConfig.Cluster cluster) {
    options.getEventBusOptions()
        .setHost(cluster.host())
        .setPort(cluster.port() + 1)
        .setClusterPublicHost(cluster.host())
        .setClusterPublicPort(cluster.port() + 1)
        .setClusterNodeMetadata(new JsonObject().put(INSTANCE, cluster.self()));
    return options;
  }

  static boolean isIpLiteral(String host) {
    return host.matches("[0-9.]+") || host.contains(":");
  }
}
