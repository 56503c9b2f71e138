package io.inferencegateway.config;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The {@code limits} settings: prefetched credit is a small share of a key's limit, kept for a bounded time. */
class LimitsConfigTest {

  private static GatewayConfig with(JsonObject limits) {
    return GatewayConfig.fromJson(new JsonObject().put("limits", limits));
  }

  @Test
  void creditDefaultsToOnePercentKeptForOneSecond() {
    GatewayConfig.Limits bundled = GatewayConfig.fromJson(ConfigLoader.bundledDefaults()).limits();
    assertThat(bundled.prefetchFraction()).isEqualTo(0.01);
    assertThat(bundled.creditTtlMs()).isEqualTo(1000);
    assertThat(with(new JsonObject()).limits().prefetchFraction()).isEqualTo(0.01);
    assertThat(with(new JsonObject().put("prefetchFraction", 0)).limits().prefetchFraction()).isZero();
    assertThat(with(new JsonObject().put("prefetchFraction", 0.1)).limits().prefetchFraction()).isEqualTo(0.1);
  }

  @Test
  void creditOutsideItsBoundsIsRefused() {
    assertThatThrownBy(() -> with(new JsonObject().put("prefetchFraction", 0.5)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("limits.prefetchFraction")
        .hasMessageContaining("between 0 and 0.1");
    assertThatThrownBy(() -> with(new JsonObject().put("prefetchFraction", -0.01)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> with(new JsonObject().put("creditTtlMs", 10)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("limits.creditTtlMs");
  }
}
