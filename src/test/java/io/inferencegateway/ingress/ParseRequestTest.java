package io.inferencegateway.ingress;

import io.inferencegateway.routing.ModelRegistry;
import io.inferencegateway.routing.PrefixAffinity;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Stage "parse and validate" without a server: what is refused, what goes upstream, the affinity key. */
class ParseRequestTest {

  static final ModelRegistry REGISTRY = Stages.registry(2, "m/a", "m/b");
  final ParseRequest stage = new ParseRequest(REGISTRY, 64, false, 100);

  static ProxyExchange chat(List<String> keyModels) {
    ProxyExchange ex = Stages.exchange(Operation.CHAT);
    ex.key = Stages.key(1, 100, null, keyModels);
    return ex;
  }

  static Buffer body(String json) {
    return Buffer.buffer(json);
  }

  @Test
  void aPlainRequestGoesUpstreamByteForByte() {
    Buffer raw = body("{\"model\":\"m/a\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    ProxyExchange ex = chat(null);
    ParsedRequest p = stage.parse(ex, raw, null);
    assertThat(p.upstreamBody()).isSameAs(raw);
    assertThat(p.stream()).isFalse();
    assertThat(p.route().name()).isEqualTo("m/a");
    assertThat(p.input()).as("content is not kept unless configured").isNull();
    assertThat(ex.model).isEqualTo("m/a");
  }

  @Test
  void aStreamAsksVllmForUsageWhateverTheClientAsked() {
    ParsedRequest spliced = stage.parse(chat(null),
        body("{\"model\":\"m/a\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"x}\"}]}\n"), null);
    assertThat(spliced.clientWantsUsage()).isFalse();
    assertThat(spliced.upstreamBody().toJsonObject().getJsonObject("stream_options").getBoolean("include_usage"))
        .isTrue();
    ParsedRequest reencoded = stage.parse(chat(null), body("{\"model\":\"m/a\",\"stream\":true,\"stream_options\":{},"
        + "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"), null);
    assertThat(reencoded.upstreamBody().toJsonObject().getJsonObject("stream_options").getBoolean("include_usage"))
        .isTrue();
    Buffer asked = body("{\"model\":\"m/a\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
        + "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
    ParsedRequest own = stage.parse(chat(null), asked, null);
    assertThat(own.clientWantsUsage()).isTrue();
    assertThat(own.upstreamBody()).isSameAs(asked);
  }

  @Test
  void includeUsageIsSplicedIntoTheClientsBodyWithoutReencodingIt() {
    String body = "{\"model\": \"m\",  \"stream\": true, \"messages\": [{\"role\":\"user\",\"content\":\"x}\"}] }\n";
    var spliced = ParseRequest.withIncludeUsage(Buffer.buffer(body));
    assertThat(spliced.toString()).startsWith(body.substring(0, body.lastIndexOf('}')));
    var json = spliced.toJsonObject();
    assertThat(json.getJsonObject("stream_options").getBoolean("include_usage")).isTrue();
    assertThat(json.getJsonArray("messages").getJsonObject(0).getString("content")).isEqualTo("x}");
    assertThat(ParseRequest.withIncludeUsage(Buffer.buffer("[1]"))).isNull();
  }

  @Test
  void refusalsNameWhatIsWrong() {
    assertThatThrownBy(() -> stage.parse(chat(null), body(""), null)).hasMessageContaining("empty");
    assertThatThrownBy(() -> stage.parse(chat(null), body("{nope"), null)).hasMessageContaining("not valid JSON");
    assertThatThrownBy(() -> stage.parse(chat(null), body("[1,2]"), null)).hasMessageContaining("not valid JSON");
    assertThatThrownBy(() -> stage.parse(chat(null), body("{\"model\":\"m/a\",\"messages\":[]}"), null))
        .isInstanceOfSatisfying(IngressFailure.class, f -> assertThat(f.param()).isEqualTo("messages"));
  }

  @Test
  void aModelTheGatewayDoesNotServeOrTheKeyMayNotUseIs404() {
    ProxyExchange unknown = chat(null);
    assertThatThrownBy(() -> stage.parse(unknown, body("{\"model\":\"m/zzz\",\"messages\":[{\"role\":\"user\","
        + "\"content\":\"x\"}]}"), null))
        .isInstanceOfSatisfying(IngressFailure.class, f -> assertThat(f.status()).isEqualTo(404));
    assertThat(unknown.model).as("an arbitrary client string is never recorded as a model").isNull();
    ProxyExchange notAllowed = chat(List.of("m/b"));
    assertThatThrownBy(() -> stage.parse(notAllowed, body("{\"model\":\"m/a\",\"messages\":[{\"role\":\"user\","
        + "\"content\":\"x\"}]}"), null))
        .isInstanceOfSatisfying(IngressFailure.class, f -> assertThat(f.code()).isEqualTo("model_not_found"));
    assertThat(notAllowed.model).as("a model the gateway serves is recorded").isEqualTo("m/a");
  }

  @Test
  void affinityFollowsTheSessionTheUserOrThePromptPrefix() {
    JsonObject a = new JsonObject("{\"messages\":[{\"role\":\"system\",\"content\":\"" + "x".repeat(100) + "\"},"
        + "{\"role\":\"user\",\"content\":\"one\"}]}");
    JsonObject b = new JsonObject("{\"messages\":[{\"role\":\"system\",\"content\":\"" + "x".repeat(100) + "\"},"
        + "{\"role\":\"user\",\"content\":\"two\"}]}");
    assertThat(stage.affinity("m/a", null, a).affinityHash())
        .as("the first user message tells conversations apart, however long the shared system prompt")
        .isNotEqualTo(stage.affinity("m/a", null, b).affinityHash());
    JsonObject aLater = a.copy();
    aLater.getJsonArray("messages").add(new JsonObject().put("role", "assistant").put("content", "an answer"))
        .add(new JsonObject().put("role", "user").put("content", "and then?"));
    assertThat(stage.affinity("m/a", null, aLater).affinityHash())
        .as("a later turn of the same conversation has the same key").isEqualTo(stage.affinity("m/a", null, a).affinityHash());
    assertThat(stage.affinity("m/a", "s1", a).affinityHash()).isEqualTo(stage.affinity("m/a", "s1", b).affinityHash())
        .isNotEqualTo(stage.affinity("m/a", "s2", a).affinityHash());
    JsonObject user = new JsonObject().put("user", "bob").put("prompt", "p");
    assertThat(stage.affinity("m/a", null, user).affinityHash()).isEqualTo(PrefixAffinity.hash("m/a\u0000u:bob"));
  }

  @Test
  void storedContentIsTruncated() {
    ParseRequest keeping = new ParseRequest(REGISTRY, 64, true, 5);
    ParsedRequest p = keeping.parse(chat(null), body("{\"model\":\"m/a\",\"prompt\":\"abc\",\"messages\":"
        + "[{\"role\":\"user\",\"content\":\"a long question\"}]}"), null);
    assertThat(p.input()).hasSize(5);
  }

  @Test
  void streamsAreResumableUnlessTheRequestOrItsHeaderOrTheSettingSaysNo() {
    String stream = "{\"model\":\"m/a\",\"stream\":true,\"max_tokens\":50,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    ParsedRequest p = stage.parse(chat(null), body(stream), null);
    assertThat(p.resumable()).isTrue();
    assertThat(p.maxTokens()).isEqualTo(50);
    assertThat(stage.parse(chat(null), body("{\"model\":\"m/a\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"), null).resumable())
        .as("nothing to resume in a whole answer").isFalse();
    assertThat(stage.parse(chat(null), body("{\"model\":\"m/a\",\"stream\":true,\"n\":2,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"), null)
        .resumable()).isFalse();
    ProxyExchange off = Stages.exchange(Operation.CHAT, java.util.Map.of("x-gateway-resume", "off"));
    off.key = Stages.key(1, 100, null, null);
    assertThat(stage.parse(off, body(stream), null).resumable()).isFalse();
    assertThat(new ParseRequest(REGISTRY, 64, false, 100, false).parse(chat(null), body(stream), null).resumable())
        .as("router.resume: false").isFalse();
    assertThat(stage.parse(chat(null), body("{\"model\":\"m/a\",\"max_completion_tokens\":7,\"max_tokens\":9,"
        + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"), null).maxTokens()).isEqualTo(7);
  }
}
