package io.inferencegateway.config;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The {@code usage} settings: stored content must fit the TEXT columns it goes to. */
class UsageConfigTest {

  private static GatewayConfig withContentMaxChars(int chars) {
    return GatewayConfig.fromJson(new JsonObject().put("usage", new JsonObject().put("contentMaxChars", chars)));
  }

  @Test
  void contentMaxCharsDefaultsTo8192AndAcceptsTheWholeRange() {
    assertThat(GatewayConfig.fromJson(ConfigLoader.bundledDefaults()).usage().contentMaxChars()).isEqualTo(8192);
    assertThat(withContentMaxChars(0).usage().contentMaxChars()).isZero();
    assertThat(withContentMaxChars(16_383).usage().contentMaxChars()).isEqualTo(16_383);
  }

  @Test
  void contentMaxCharsBeyondWhatATextColumnHoldsIsRefused() {
    assertThatThrownBy(() -> withContentMaxChars(16_384)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("usage.contentMaxChars").hasMessageContaining("16383");
    assertThatThrownBy(() -> withContentMaxChars(-1)).isInstanceOf(IllegalArgumentException.class);
  }
}
