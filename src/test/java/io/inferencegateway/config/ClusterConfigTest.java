package io.inferencegateway.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Cluster mode's settings: off unless members are given; the environment over the file. */
class ClusterConfigTest {

  static GatewayConfig defaults() {
    return GatewayConfig.fromJson(ConfigLoader.bundledDefaults());
  }

  @Test
  void offByDefault() {
    GatewayConfig.Cluster c = defaults().cluster();
    assertThat(c.enabled()).isFalse();
    assertThat(c.host()).isEqualTo("127.0.0.1");
    assertThat(c.port()).isEqualTo(5701);
    assertThat(c.keyCacheMaxAgeMs()).isEqualTo(60_000);
    assertThat(c.leaderRetryMs()).isEqualTo(5_000);
  }

  @Test
  void theEnvironmentTurnsItOn() {
    GatewayConfig.Cluster c = defaults().withEnvironment(Map.of(
        "CLUSTER_MEMBERS", " 10.0.0.1:5701, 10.0.0.2 ,10.0.0.3:5801", "CLUSTER_HOST", "10.0.0.2",
        "CLUSTER_PORT", "5711")).cluster();
    assertThat(c.enabled()).isTrue();
    assertThat(c.members()).containsExactly("10.0.0.1:5701", "10.0.0.2:5711", "10.0.0.3:5801");
    assertThat(c.self()).isEqualTo("10.0.0.2:5711");
  }

  @Test
  void theFileMayListMembersAsAnArrayOrAString() {
    JsonObject json = ConfigLoader.bundledDefaults();
    json.getJsonObject("cluster").put("members", new JsonArray().add("a:1").add("b:2"))
        .put("keyCacheMaxAgeMs", 1000);
    assertThat(GatewayConfig.fromJson(json).cluster().members()).containsExactly("a:1", "b:2");
    assertThat(GatewayConfig.fromJson(json).cluster().keyCacheMaxAgeMs()).isEqualTo(1000);
    json.getJsonObject("cluster").put("members", "a:1,b:2");
    assertThat(GatewayConfig.fromJson(json).cluster().members()).isEqualTo(List.of("a:1", "b:2"));
  }

  @Test
  void badValuesAreRefused() {
    assertThatThrownBy(() -> defaults().withEnvironment(Map.of("CLUSTER_MEMBERS", "a:notaport")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("CLUSTER_MEMBERS");
    assertThatThrownBy(() -> defaults().withEnvironment(Map.of("CLUSTER_PORT", "65535")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("CLUSTER_PORT");
    assertThatThrownBy(() -> defaults().withEnvironment(Map.of("CLUSTER_PORT", "x")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("CLUSTER_PORT");
  }

  @Test
  void theOtherSettingsKeepTheClusterAndTheOldConstructorMeansNone() {
    GatewayConfig on = defaults().withEnvironment(Map.of("CLUSTER_MEMBERS", "a:1"));
    assertThat(on.withRedis(on.redis()).withHttp(on.http()).cluster().enabled()).isTrue();
    GatewayConfig old = new GatewayConfig(on.http(), null, null, on.database(), on.redis(), on.limits(), on.usage(),
        on.upstream(), on.health(), on.hyperstack(), on.router(), on.console(), on.bridge(), on.backup(),
        on.retention());
    assertThat(old.cluster().enabled()).isFalse();
  }
}
