package io.inferencegateway.routing;

import io.inferencegateway.config.ConfigLoader;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.store.ModelRow;
import io.inferencegateway.store.ReplicaRow;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The model registry's snapshots: what is routable, and what live state survives a reload. */
class ModelRegistryTest {

  static final GatewayConfig.Router SETTINGS = GatewayConfig.fromJson(ConfigLoader.bundledDefaults()).router();
  final ModelRegistry registry = new ModelRegistry(null, SETTINGS);

  static ModelRow model(long id, String name, String strategy) {
    return new ModelRow(id, name, strategy, Instant.EPOCH);
  }

  static ReplicaRow replica(long id, long modelId, String endpoint, String status) {
    return new ReplicaRow(id, modelId, endpoint, null, null, null, status, null, null, null, null, null, null, null,
        null, null, Instant.EPOCH, Instant.EPOCH);
  }

  @Test
  void replicasWithoutAUsableEndpointOrModelAreLeftOut() {
    registry.apply(List.of(model(1, "a", null)), List.of(
        replica(1, 1, "http://10.0.0.1:8000", ReplicaRow.SUCCESS),
        replica(2, 1, null, ReplicaRow.PENDING),
        replica(3, 1, "ftp://nope", ReplicaRow.SUCCESS),
        replica(4, 9, "http://10.0.0.4:8000", ReplicaRow.SUCCESS)));
    assertThat(registry.model("a").replicas()).extracting(ReplicaState::id).containsExactly(1L);
    assertThat(registry.replicas()).hasSize(1);
    assertThat(registry.model("b")).isNull();
  }

  @Test
  void liveStateSurvivesAReloadUnlessTheEndpointChanged() {
    registry.apply(List.of(model(1, "a", null)), List.of(replica(1, 1, "http://10.0.0.1:8000", ReplicaRow.SUCCESS),
        replica(2, 1, "http://10.0.0.2:8000", ReplicaRow.SUCCESS)));
    ReplicaLease lease = new ReplicaRouter(SETTINGS).choose(registry.model("a"), new RouteHints(0, false,
        java.util.Set.of(2L))).lease();
    registry.replica(2).markHealth(false, "down");
    registry.apply(List.of(model(1, "renamed", null)), List.of(replica(1, 1, "http://10.0.0.1:8000", ReplicaRow.SUCCESS),
        replica(2, 1, "http://10.0.0.22:8000", ReplicaRow.SUCCESS)));
    assertThat(registry.replica(1).inFlight()).as("same endpoint: same live state").isEqualTo(1);
    assertThat(registry.replica(1).modelName()).isEqualTo("renamed");
    assertThat(registry.replica(2).healthy()).as("new endpoint: fresh state").isTrue();
    lease.release();
    assertThat(registry.replica(1).inFlight()).isZero();
  }

  @Test
  void eachModelHasItsStrategyAndKeepsItsInstanceAcrossReloads() {
    registry.apply(List.of(model(1, "a", "round-robin"), model(2, "b", null), model(3, "c", "bogus")), List.of());
    assertThat(registry.model("a").strategyName()).isEqualTo("round-robin");
    assertThat(registry.model("b").strategyName()).isEqualTo(SETTINGS.strategy());
    assertThat(registry.model("c").strategy()).as("unknown names fall back to the default").isNotNull();
    RoutingStrategy roundRobin = registry.model("a").strategy();
    registry.apply(List.of(model(1, "a", "round-robin")), List.of());
    assertThat(registry.model("a").strategy()).as("round-robin keeps its turn").isSameAs(roundRobin);
    assertThat(registry.models()).hasSize(1);
  }
}
