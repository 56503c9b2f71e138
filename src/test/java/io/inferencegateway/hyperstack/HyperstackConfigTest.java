package io.inferencegateway.hyperstack;

import io.inferencegateway.config.ConfigLoader;
import io.inferencegateway.config.GatewayConfig;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The {@code hyperstack} settings: defaults, the file, the environment, and never printing the key. */
class HyperstackConfigTest {

  @Test
  void bundledDefaults() {
    GatewayConfig.Hyperstack hs = GatewayConfig.fromJson(ConfigLoader.bundledDefaults()).hyperstack();
    assertThat(hs.apiKey()).isNull();
    assertThat(hs.baseUrl()).isEqualTo("https://infrahub-api.nexgencloud.com/v1");
    assertThat(hs.gatewayCidr()).isEqualTo("0.0.0.0/0");
    assertThat(hs.pollIntervalMs()).isEqualTo(10_000);
    assertThat(hs.vmTimeoutMs()).isEqualTo(20 * 60_000);
    assertThat(hs.healthTimeoutMs()).isEqualTo(30 * 60_000);
    assertThat(hs.requestTimeoutMs()).isEqualTo(30_000);
    assertThat(GatewayConfig.fromJson(new JsonObject()).hyperstack()).isEqualTo(hs);
  }

  @Test
  void fileValuesThenTheEnvironmentKeyWhichKeepsTheOtherSettings() {
    GatewayConfig c = GatewayConfig.fromJson(new JsonObject().put("hyperstack", new JsonObject()
        .put("apiKey", "from-file").put("baseUrl", "http://127.0.0.1:9/v1/").put("gatewayCidr", "203.0.113.7/32")
        .put("pollIntervalMs", 500).put("vmTimeoutMs", 60_000).put("healthTimeoutMs", 90_000)
        .put("requestTimeoutMs", 2_000)));
    GatewayConfig.Hyperstack hs = c.withEnvironment(Map.of("HYPERSTACK_API_KEY", " hs-secret-123 ")).hyperstack();
    assertThat(hs).isEqualTo(new GatewayConfig.Hyperstack("hs-secret-123", "http://127.0.0.1:9/v1", "203.0.113.7/32",
        500, 60_000, 90_000, 2_000));
    assertThat(hs.toString()).doesNotContain("hs-secret-123").contains("apiKey=set");
    assertThat(c.withEnvironment(Map.of("HYPERSTACK_API_KEY", "hs-secret-123")).toString())
        .doesNotContain("hs-secret-123");
  }

  @Test
  void whoMayReachNewReplicasComesFromTheFileOrTheEnvironment() {
    GatewayConfig.Hyperstack defaults = GatewayConfig.fromJson(ConfigLoader.bundledDefaults()).hyperstack();
    assertThat(defaults.opensReplicasToEveryone()).isTrue();
    assertThat(defaults.allowOpenReplicas()).as("create_vm refused until told").isFalse();
    assertThat(defaults.sshCidr()).as("no SSH rule added").isNull();
    GatewayConfig.Hyperstack file = GatewayConfig.fromJson(new JsonObject().put("hyperstack", new JsonObject()
        .put("gatewayCidr", "203.0.113.7/32").put("sshCidr", "198.51.100.9/32").put("allowOpenReplicas", true)))
        .hyperstack();
    assertThat(file.opensReplicasToEveryone()).isFalse();
    assertThat(file.sshCidr()).isEqualTo("198.51.100.9/32");
    assertThat(file.allowOpenReplicas()).isTrue();
    GatewayConfig.Hyperstack env = GatewayConfig.fromJson(new JsonObject()).withEnvironment(Map.of(
        "HYPERSTACK_GATEWAY_CIDR", "203.0.113.8/32", "HYPERSTACK_SSH_CIDR", "198.51.100.0/24",
        "HYPERSTACK_ALLOW_OPEN_REPLICAS", "false")).hyperstack();
    assertThat(env.gatewayCidr()).isEqualTo("203.0.113.8/32");
    assertThat(env.sshCidr()).isEqualTo("198.51.100.0/24");
    assertThat(env.allowOpenReplicas()).isFalse();
    assertThatThrownBy(() -> GatewayConfig.fromJson(new JsonObject())
        .withEnvironment(Map.of("HYPERSTACK_ALLOW_OPEN_REPLICAS", "yes please")))
        .hasMessageContaining("HYPERSTACK_ALLOW_OPEN_REPLICAS");
  }

  @Test
  void nonPositiveDurationsAreRefused() {
    assertThatThrownBy(() -> GatewayConfig.fromJson(new JsonObject().put("hyperstack",
        new JsonObject().put("healthTimeoutMs", 0))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("healthTimeoutMs");
  }
}
