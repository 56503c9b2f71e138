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
  @ValueSource(strings = {"", "10.0.0.5:8000", "ftp://host/v1", "http:///v1", "http://host:8000/v1?x=1"})
  void badEndpointsAreRefused(String endpoint) {
    assertThatThrownBy(() -> UpstreamTarget.parse(endpoint)).isInstanceOf(IllegalArgumentException.class);
  }
}
