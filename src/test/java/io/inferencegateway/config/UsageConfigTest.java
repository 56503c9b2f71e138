package io.inferencegateway.config;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The {@code usage} settings (stored content must fit the TEXT columns it goes to; the journal) and the drain time. */
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

  @Test
  void journalAndDrainSettingsHaveTheirDefaultsAndAreChecked() {
    GatewayConfig d = GatewayConfig.fromJson(ConfigLoader.bundledDefaults());
    assertThat(d.usage().journal()).isEqualTo(GatewayConfig.Journal.DEFAULTS);
    assertThat(d.usage().journal().groupCommitMs()).isEqualTo(50);
    assertThat(d.usage().journal().fsync()).isEqualTo("interval");
    assertThat(d.http().drainSeconds()).isEqualTo(30);
    GatewayConfig c = GatewayConfig.fromJson(new JsonObject()
        .put("usage", new JsonObject().put("journal", new JsonObject().put("fsync", "always").put("groupCommitMs", 5)))
        .put("shutdown", new JsonObject().put("drainSeconds", 7)));
    assertThat(c.usage().journal().fsync()).isEqualTo("always");
    assertThat(c.usage().journal().groupCommitMs()).isEqualTo(5);
    assertThat(c.http().drainSeconds()).isEqualTo(7);
    assertThat(c.withEnvironment(java.util.Map.of("SHUTDOWN_DRAIN_SECONDS", "12")).http().drainSeconds()).isEqualTo(12);
    assertThat(c.withEnvironment(java.util.Map.of("HTTP_PORT", "5009")).http().drainSeconds()).isEqualTo(7);
    assertThatThrownBy(() -> GatewayConfig.fromJson(new JsonObject().put("usage",
        new JsonObject().put("journal", new JsonObject().put("fsync", "sometimes")))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("usage.journal.fsync");
    assertThatThrownBy(() -> c.withEnvironment(java.util.Map.of("SHUTDOWN_DRAIN_SECONDS", "soon")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("SHUTDOWN_DRAIN_SECONDS");
  }
}
