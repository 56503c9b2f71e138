package io.inferencegateway.ingress;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The toolkit's request rules: the first problem is reported with the offending parameter. */
class RequestValidatorTest {

  static IngressFailure chat(String extra) {
    return RequestValidator.validate(Operation.CHAT, new JsonObject("{\"model\":\"m\",\"messages\":[{\"role\":\"user\","
        + "\"content\":\"hi\"}]" + extra + "}"));
  }

  static String param(IngressFailure f) {
    assertThat(f).isNotNull();
    assertThat(f.status()).isEqualTo(400);
    return f.param();
  }

  @Test
  void aWellFormedChatPassesAndUnknownFieldsAreLeftForVllm() {
    assertThat(chat(",\"temperature\":0.7,\"max_tokens\":64,\"guided_json\":{\"type\":\"object\"},\"stream\":true"))
        .isNull();
    assertThat(chat(",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],\"tool_choice\":\"auto\""))
        .isNull();
  }

  @Test
  void chatRules() {
    assertThat(param(RequestValidator.validate(Operation.CHAT, new JsonObject("{\"messages\":[]}")))).isEqualTo("model");
    assertThat(param(RequestValidator.validate(Operation.CHAT, new JsonObject("{\"model\":\"m\"}"))))
        .isEqualTo("messages");
    assertThat(param(RequestValidator.validate(Operation.CHAT,
        new JsonObject("{\"model\":\"m\",\"messages\":[{\"role\":\"user\"}]}")))).isEqualTo("messages[0].content");
    assertThat(param(chat(",\"temperature\":3"))).isEqualTo("temperature");
    assertThat(param(chat(",\"max_tokens\":0"))).isEqualTo("max_tokens");
    assertThat(param(chat(",\"max_tokens\":1.5"))).isEqualTo("max_tokens");
    assertThat(param(chat(",\"max_tokens\":18446744073709551621"))).as("2^64 + 5 is not 5").isEqualTo("max_tokens");
    assertThat(param(chat(",\"max_tokens\":9223372036854775808"))).as("2^63 does not wrap negative").isEqualTo("max_tokens");
    assertThat(param(chat(",\"max_tokens\":2147483648"))).isEqualTo("max_tokens");
    assertThat(param(chat(",\"n\":18446744073709551617"))).as("2^64 + 1 is not 1").isEqualTo("n");
    assertThat(chat(",\"max_tokens\":2147483647")).isNull();
    assertThat(param(chat(",\"n\":129"))).isEqualTo("n");
    assertThat(param(chat(",\"stream\":\"yes\""))).isEqualTo("stream");
    assertThat(param(chat(",\"top_logprobs\":2"))).as("only with logprobs").isEqualTo("top_logprobs");
    assertThat(param(chat(",\"logit_bias\":{\"5\":101}"))).isEqualTo("logit_bias");
    assertThat(param(chat(",\"tool_choice\":\"sometimes\""))).isEqualTo("tool_choice");
    assertThat(param(chat(",\"tools\":[{\"type\":\"function\"}]"))).isEqualTo("tools[0]");
    assertThat(param(chat(",\"stream_options\":true"))).isEqualTo("stream_options");
  }

  @Test
  void completionsAndEmbeddingsRules() {
    assertThat(RequestValidator.validate(Operation.COMPLETIONS, new JsonObject("{\"model\":\"m\",\"prompt\":[[1,2],[3]]}")))
        .isNull();
    assertThat(param(RequestValidator.validate(Operation.COMPLETIONS, new JsonObject("{\"model\":\"m\",\"prompt\":{}}"))))
        .isEqualTo("prompt");
    assertThat(param(RequestValidator.validate(Operation.COMPLETIONS,
        new JsonObject("{\"model\":\"m\",\"prompt\":\"p\",\"logprobs\":21}")))).isEqualTo("logprobs");
    assertThat(RequestValidator.validate(Operation.EMBEDDINGS, new JsonObject("{\"model\":\"m\",\"input\":[\"a\",\"b\"]}")))
        .isNull();
    assertThat(param(RequestValidator.validate(Operation.EMBEDDINGS, new JsonObject("{\"model\":\"m\",\"input\":\"\"}"))))
        .isEqualTo("input");
    assertThat(param(RequestValidator.validate(Operation.EMBEDDINGS,
        new JsonObject("{\"model\":\"m\",\"input\":\"a\",\"encoding_format\":\"hex\"}")))).isEqualTo("encoding_format");
  }
}
