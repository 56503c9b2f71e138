package io.inferencegateway.routing;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class UpstreamTargetTest {

  @ParameterizedTest
  @CsvSource({
      "http://10.0.0.5:8000, http://10.0.0.5:8000, /v1/chat/completions",
      "http://10.0.0.5:8000/, http://10.0.0.5:8000, /v1/chat/completions",
      "http://10.0.0.5:8000/v1, http://10.0.0.5:8000, /v1/chat/completions",
      "http://10.0.0.5:8000/v1/, http://10.0.0.5:8000, /v1/chat/completions",
      "http://10.0.0.5:8000/v1/chat/completions, http://10.0.0.5:8000, /v1/chat/completions",
      "http://10.0.0.5:8000/v1/completions, http://10.0.0.5:8000, /v1/chat/completions",
      "https://llm.example.com/team-a/v1, https://llm.example.com:443/team-a, /team-a/v1/chat/completions",
      "http://host, http://host:80, /v1/chat/completions",
  })
  void endpointsReduceToTheirBase(String endpoint, String base, String chatUri) {
    UpstreamTarget t = UpstreamTarget.parse(endpoint);
    assertThat(t.baseUrl()).isEqualTo(base);
    assertThat(t.uri("/v1/chat/completions")).isEqualTo(chatUri);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "10.0.0.5:8000", "ftp://host/v1", "http:///v1", "http://host:8000/v1?x=1",
      "http://10.0.0.5:99999", "http://10.0.0.5:0", "http://10.0.0.5:65536/v1", "http://10.0.0.5:"})
  void badEndpointsAreRefused(String endpoint) {
    assertThatThrownBy(() -> UpstreamTarget.parse(endpoint)).isInstanceOf(IllegalArgumentException.class);
  }

  @org.junit.jupiter.api.Test
  void theReplicaKeyBecomesAnAuthorizationHeaderAndIsNeverPrinted() {
    UpstreamTarget plain = UpstreamTarget.parse("http://10.0.0.5:8000");
    assertThat(plain.authorization()).isNull();
    UpstreamTarget keyed = plain.withApiKey("rk-secret-value-1");
    assertThat(keyed.authorization()).isEqualTo("Bearer rk-secret-value-1");
    assertThat(keyed.toString()).doesNotContain("rk-secret-value-1").contains("10.0.0.5:8000");
    assertThat(keyed).as("a new key is a new target: the registry builds a fresh replica state").isNotEqualTo(plain);
    assertThat(plain.withApiKey(" ").apiKey()).isNull();
  }
}
