package io.inferencegateway.simulator;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SimulatorSettingsTest {

  @Test
  void defaultsMatchTheDocumentedValues() {
    SimulatorSettings s = SimulatorSettings.defaults(List.of("m"));
    assertThat(s.tokensPerAnswer()).isEqualTo(20);
    assertThat(s.timeToFirstTokenMs()).isZero();
    assertThat(s.interTokenMs()).isZero();
    assertThat(s.embeddingDimensions()).isEqualTo(384);
    assertThat(s.maxModelLen()).isEqualTo(15360);
    assertThat(s.maxNumSeqs()).isEqualTo(256);
    assertThat(s.errorRate()).isZero();
    assertThat(s.healthy()).isTrue();
    assertThat(s.engine()).isEqualTo("instant");
    assertThat(s.faithful()).isFalse();
    assertThat(s.kvCacheTokens()).isEqualTo(65536);
    assertThat(s.maxNumBatchedTokens()).isEqualTo(2048);
    assertThat(s.stepBaseMs()).isEqualTo(6.5);
    assertThat(s.stepPerSeqMs()).isEqualTo(0.75);
    assertThat(s.prefillPerTokenMs()).isEqualTo(0.075);
  }

  @Test
  void faithfulEngineSettingsAreChecked() {
    SimulatorSettings s = SimulatorSettings.defaults(List.of("a"));
    SimulatorSettings f = s.merge(new JsonObject().put("engine", "faithful").put("kvCacheTokens", 20000)
        .put("stepBaseMs", 3.25));
    assertThat(f.faithful()).isTrue();
    assertThat(SimulatorSettings.fromJson(f.toJson())).isEqualTo(f);
    assertThatThrownBy(() -> s.merge(new JsonObject().put("engine", "fast")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("engine");
    assertThatThrownBy(() -> s.merge(new JsonObject().put("engine", "faithful").put("kvCacheTokens", 8000)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxModelLen");
    // The instant engine has no KV cache to fit: any capacity of at least one block will do.
    assertThat(s.merge(new JsonObject().put("kvCacheTokens", 16)).kvCacheTokens()).isEqualTo(16);
    assertThatThrownBy(() -> s.merge(new JsonObject().put("kvCacheTokens", 8)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("kvCacheTokens");
    assertThatThrownBy(() -> s.merge(new JsonObject().put("stepPerSeqMs", -1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("stepPerSeqMs");
    assertThatThrownBy(() -> s.merge(new JsonObject().put("maxNumBatchedTokens", 0)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxNumBatchedTokens");
    assertThatThrownBy(() -> s.merge(new JsonObject().put("engine", 1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("engine");
  }

  @Test
  void jsonRoundTrip() {
    SimulatorSettings s = SimulatorSettings.defaults(List.of("a", "b"))
        .merge(new JsonObject().put("errorRate", 0.25).put("interTokenMs", 7).put("healthy", false).put("seed", 9));
    SimulatorSettings back = SimulatorSettings.fromJson(s.toJson());
    assertThat(back).isEqualTo(s);
    assertThat(SimulatorSettings.fromJson(new JsonObject()).models()).isEqualTo(SimulatorSettings.PRESET_MODELS);
  }

  @Test
  void mergeReplacesOnlyTheGivenKeys() {
    SimulatorSettings s = SimulatorSettings.defaults(List.of("a"));
    SimulatorSettings merged = s.merge(new JsonObject().put("tokensPerAnswer", 3)
        .put("models", new JsonArray().add("x").add("y")));
    assertThat(merged.tokensPerAnswer()).isEqualTo(3);
    assertThat(merged.models()).containsExactly("x", "y");
    assertThat(merged.maxNumSeqs()).isEqualTo(s.maxNumSeqs());
    assertThat(s.tokensPerAnswer()).isEqualTo(20);
  }

  @Test
  void unknownKeysAndBadValuesAreRejected() {
    SimulatorSettings s = SimulatorSettings.defaults(List.of("a"));
    assertThatThrownBy(() -> s.merge(new JsonObject().put("tokens", 3)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Unknown simulator setting 'tokens'");
    assertThatThrownBy(() -> s.merge(new JsonObject().put("errorRate", 1.5)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("errorRate");
    assertThatThrownBy(() -> s.merge(new JsonObject().put("maxNumSeqs", 0)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxNumSeqs");
    assertThatThrownBy(() -> s.merge(new JsonObject().put("interTokenMs", "fast")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("interTokenMs");
    assertThatThrownBy(() -> s.merge(new JsonObject().put("healthy", "yes")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("healthy");
    assertThatThrownBy(() -> s.merge(new JsonObject().put("models", new JsonArray())))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("models");
    assertThatThrownBy(() -> SimulatorSettings.defaults(List.of("a", "a")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("duplicates");
  }
}
