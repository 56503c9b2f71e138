package io.inferencegateway.ingress;

import io.inferencegateway.support.Poll;
import io.inferencegateway.simulator.SimulatorVerticle;
import io.inferencegateway.store.ModelRow;
import io.inferencegateway.support.GatewayHarness;
import io.inferencegateway.support.Http;
import io.inferencegateway.support.TestServices;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The OpenAI-compatible ingress over real HTTP, with the vLLM simulator as the upstream and the embedded database:
 * the happy paths (JSON and SSE), and every refusal with its status and OpenAI error shape.
 */
class IngressTest {

  static final String MODEL = "test/llama";
  static GatewayHarness gw;
  static SimulatorVerticle sim;
  static Vertx vertx;
  static Http http;

  @BeforeAll
  static void start() {
    // no periodic health checks here: the refusal paths below must meet the replicas as they are
    gw = GatewayHarness.embedded(c -> c.withHealth(new io.inferencegateway.config.GatewayConfig.Health(600_000, 500)));
    sim = gw.simulator(0, GatewayHarness.simSettings(MODEL, new JsonObject().put("tokensPerAnswer", 5)));
    ModelRow m = gw.model(MODEL);
    // the toolkit stored full operation URLs; they must work as the replica's base
    gw.replica(m, "http://127.0.0.1:" + sim.actualPort() + "/v1/chat/completions");
    vertx = Vertx.vertx();
    http = new Http(vertx);
  }

  @AfterAll
  static void stop() {
    http.close();
    vertx.close().await();
    gw.close();
  }

  static JsonObject chat(String model, boolean stream) {
    return new JsonObject().put("model", model).put("stream", stream)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "Say hello")));
  }

  Row usageRow(String requestId) throws InterruptedException {
    return Poll.value("the usage row of " + requestId, java.time.Duration.ofSeconds(10),
        () -> gw.app.services().database().pool()
            .preparedQuery("SELECT * FROM metrics WHERE request_id = ?").execute(Tuple.of(requestId)).await(),
        rows -> rows.size() == 1).iterator().next();
  }

  @Test
  void nonStreamingChatIsRelayedAndRecorded() throws InterruptedException {
    var key = gw.key("alice");
    Http.Response r = http.post(gw.baseUrl + "/v1/chat/completions", key.plaintext(), chat(MODEL, false));
    assertThat(r.status()).isEqualTo(200);
    JsonObject body = r.json();
    assertThat(body.getString("object")).isEqualTo("chat.completion");
    assertThat(body.getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content")).isNotBlank();
    assertThat(body.getJsonObject("usage").getInteger("completion_tokens")).isEqualTo(5);

    Row row = usageRow(r.header("x-request-id"));
    assertThat(row.getLong("api_key_id")).isEqualTo(key.row().id());
    assertThat(row.getString("model")).isEqualTo(MODEL);
    assertThat(row.getInteger("status")).isEqualTo(200);
    assertThat(row.getInteger("prompt_tokens")).isEqualTo(body.getJsonObject("usage").getInteger("prompt_tokens"));
    assertThat(row.getInteger("completion_tokens")).isEqualTo(5);
    assertThat(row.getInteger("total_tokens")).isEqualTo(body.getJsonObject("usage").getInteger("total_tokens"));
    assertThat(row.getString("endpoint")).isEqualTo("chat/completions");
    assertThat(row.getValue("input")).as("content is not stored by default").isNull();
  }

  @Test
  void streamingChatRelaysEventsAndHidesTheUsageChunkTheClientDidNotAskFor() throws InterruptedException {
    var key = gw.key("bob");
    Http.Response r = http.post(gw.baseUrl + "/v1/chat/completions", key.plaintext(), chat(MODEL, true));
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("content-type")).startsWith("text/event-stream");
    assertThat(r.header("x-accel-buffering")).isEqualTo("no");
    List<String> events = r.events();
    assertThat(events.get(events.size() - 1)).isEqualTo("[DONE]");
    List<JsonObject> chunks = events.subList(0, events.size() - 1).stream().map(JsonObject::new).toList();
    assertThat(chunks).allSatisfy(c -> assertThat(c.getJsonArray("choices")).isNotEmpty());
    assertThat(chunks).noneSatisfy(c -> assertThat(c.containsKey("usage")).isTrue());
    String text = chunks.stream().map(c -> c.getJsonArray("choices").getJsonObject(0).getJsonObject("delta")
        .getString("content", "")).reduce("", String::concat);
    assertThat(text.trim().split(" ")).hasSize(5);

    Row row = usageRow(r.header("x-request-id"));
    assertThat(row.getInteger("completion_tokens")).as("usage captured from the hidden chunk").isEqualTo(5);
    assertThat(row.getInteger("prompt_tokens")).isPositive();
    assertThat(row.getValue("time_to_first_token")).isNotNull();
  }

  @Test
  void streamingKeepsTheUsageChunkWhenTheClientAskedForIt() {
    var key = gw.key("carol");
    JsonObject body = chat(MODEL, true).put("stream_options", new JsonObject().put("include_usage", true));
    Http.Response r = http.post(gw.baseUrl + "/api/v1/chat/completions", key.plaintext(), body);
    assertThat(r.status()).isEqualTo(200);
    List<String> events = r.events();
    JsonObject usageChunk = new JsonObject(events.get(events.size() - 2));
    assertThat(usageChunk.getJsonArray("choices")).isEmpty();
    assertThat(usageChunk.getJsonObject("usage").getInteger("completion_tokens")).isEqualTo(5);
  }

  @Test
  void completionsAndEmbeddingsAreProxiedToo() {
    var key = gw.key("dave");
    Http.Response c = http.post(gw.baseUrl + "/v1/completions", key.plaintext(),
        new JsonObject().put("model", MODEL).put("prompt", "Once upon a time").put("max_tokens", 3));
    assertThat(c.status()).isEqualTo(200);
    assertThat(c.json().getString("object")).isEqualTo("text_completion");
    assertThat(c.json().getJsonObject("usage").getInteger("completion_tokens")).isEqualTo(3);

    Http.Response e = http.post(gw.baseUrl + "/api/v1/embeddings", key.plaintext(),
        new JsonObject().put("model", MODEL).put("input", new JsonArray().add("a").add("b")));
    assertThat(e.status()).isEqualTo(200);
    assertThat(e.json().getJsonArray("data")).hasSize(2);
  }

  @Test
  void unknownFieldsReachTheUpstreamUntouched() {
    var key = gw.key("erin");
    JsonObject body = chat(MODEL, false).put("guided_json", new JsonObject().put("type", "object"))
        .put("max_tokens", 2);
    Http.Response r = http.post(gw.baseUrl + "/v1/chat/completions", key.plaintext(), body);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getJsonArray("choices").getJsonObject(0).getString("finish_reason")).isEqualTo("length");
  }

  @ParameterizedTest(name = "{0} -> param {1}")
  @CsvSource(delimiter = '|', value = {
      "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}|model",
      "{\"model\":\"\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}|model",
      "{\"model\":\"m\",\"messages\":[]}|messages",
      "{\"model\":\"m\"}|messages",
      "{\"model\":\"m\",\"messages\":[{\"content\":\"x\"}]}|messages[0].role",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\"}]}|messages[0].content",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":2.5}|temperature",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"top_p\":1.5}|top_p",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"frequency_penalty\":-3}|frequency_penalty",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"presence_penalty\":2.1}|presence_penalty",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":0}|max_tokens",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"n\":0}|n",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"logprobs\":true,\"top_logprobs\":21}|top_logprobs",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"top_logprobs\":2}|top_logprobs",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stop\":[1,2]}|stop",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"logit_bias\":{\"5\":101}}|logit_bias",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream_options\":true}|stream_options",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tool_choice\":\"sometimes\"}|tool_choice",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[{\"type\":\"function\"}]}|tools[0]",
  })
  void invalidRequestsNameTheOffendingParam(String body, String param) {
    var key = gw.key("val");
    Http.Response r = http.post(gw.baseUrl + "/v1/chat/completions", key.plaintext(), body);
    assertThat(r.status()).isEqualTo(400);
    JsonObject error = r.json().getJsonObject("error");
    assertThat(error.getString("param")).isEqualTo(param);
    assertThat(error.getString("type")).isEqualTo("invalid_request_error");
    assertThat(error.getString("message")).isNotBlank();
    assertThat(error.containsKey("code")).isTrue();
  }

  @Test
  void malformedJsonWrongTypeAndHugeBodiesAreRefused() {
    var key = gw.key("fay");
    Http.Response bad = http.post(gw.baseUrl + "/v1/chat/completions", key.plaintext(), "{\"model\": ");
    assertThat(bad.status()).isEqualTo(400);
    assertThat(bad.json().getJsonObject("error").getString("code")).isEqualTo("invalid_json");

    Http.Response notObject = http.post(gw.baseUrl + "/v1/chat/completions", key.plaintext(), "[1,2]");
    assertThat(notObject.status()).isEqualTo(400);

    Http.Response type = http.send(HttpMethod.POST, gw.baseUrl + "/v1/chat/completions", key.plaintext(),
        "text/plain", Buffer.buffer(chat(MODEL, false).encode()));
    assertThat(type.status()).isEqualTo(415);
    assertThat(type.json().getJsonObject("error").getString("code")).isEqualTo("unsupported_media_type");

    Buffer huge = Buffer.buffer("{\"model\":\"" + MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":\"")
        .appendString("x".repeat(2 * 1024 * 1024)).appendString("\"}]}");
    Http.Response big = http.post(gw.baseUrl + "/v1/chat/completions", key.plaintext(), huge);
    assertThat(big.status()).isEqualTo(413);
    assertThat(big.json().getJsonObject("error").getString("code")).isEqualTo("request_too_large");
  }

  @Test
  void missingUnknownDisabledAndExpiredKeysGet401() {
    Http.Response none = http.post(gw.baseUrl + "/v1/chat/completions", null, chat(MODEL, false));
    assertThat(none.status()).isEqualTo(401);
    assertThat(none.json().getJsonObject("error").getString("code")).isEqualTo("invalid_api_key");

    Http.Response unknown = http.post(gw.baseUrl + "/v1/chat/completions", "sk-not-a-real-key", chat(MODEL, false));
    assertThat(unknown.status()).isEqualTo(401);

    var disabled = gw.key("gil");
    gw.app.services().apiKeys().setEnabled(disabled.row().id(), false).await();
    gw.app.services().keyCache().upsert(gw.app.services().apiKeys().byId(disabled.row().id()).await().orElseThrow());
    Http.Response d = http.post(gw.baseUrl + "/v1/chat/completions", disabled.plaintext(), chat(MODEL, false));
    assertThat(d.status()).isEqualTo(401);
    assertThat(d.json().getJsonObject("error").getString("message")).contains("disabled");

    var expired = gw.key("hal", 100, null, null, Instant.now().minusSeconds(5));
    Http.Response e = http.post(gw.baseUrl + "/v1/chat/completions", expired.plaintext(), chat(MODEL, false));
    assertThat(e.status()).isEqualTo(401);
    assertThat(e.json().getJsonObject("error").getString("message")).contains("expired");
  }

  @Test
  void unknownAndForbiddenModelsGet404() {
    var key = gw.key("ida");
    Http.Response r = http.post(gw.baseUrl + "/v1/chat/completions", key.plaintext(), chat("no/such-model", false));
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.json().getJsonObject("error").getString("code")).isEqualTo("model_not_found");
    assertThat(r.json().getJsonObject("error").getString("param")).isEqualTo("model");

    var restricted = gw.key("jon", 100, null, List.of("other/model"), null);
    Http.Response f = http.post(gw.baseUrl + "/v1/chat/completions", restricted.plaintext(), chat(MODEL, false));
    assertThat(f.status()).isEqualTo(404);
    Http.Response list = http.get(gw.baseUrl + "/v1/models", restricted.plaintext());
    assertThat(list.json().getJsonArray("data")).isEmpty();
    Http.Response all = http.get(gw.baseUrl + "/v1/models", key.plaintext());
    assertThat(all.json().getString("object")).isEqualTo("list");
    assertThat(all.json().getJsonArray("data").stream().map(o -> ((JsonObject) o).getString("id")))
        .contains(MODEL);
  }

  @Test
  void requestsOverTheKeysRpmGet429WithRetryAfter() {
    var key = gw.key("kim", 3, null, null, null);
    for (int i = 0; i < 3; i++) {
      assertThat(http.post(gw.baseUrl + "/v1/chat/completions", key.plaintext(), chat(MODEL, false)).status())
          .isEqualTo(200);
    }
    Http.Response r = http.post(gw.baseUrl + "/v1/chat/completions", key.plaintext(), chat(MODEL, false));
    assertThat(r.status()).isEqualTo(429);
    assertThat(r.json().getJsonObject("error").getString("type")).isEqualTo("rate_limit_exceeded");
    assertThat(Integer.parseInt(r.header("retry-after"))).isBetween(1, 20);
  }

  @Test
  void tokensPerMinuteLimitStopsAKeyThatUsedItsTokens() {
    var key = gw.key("tpm", 1000, 10, null, null); // one answer uses more than 10 tokens
    assertThat(http.post(gw.baseUrl + "/v1/chat/completions", key.plaintext(), chat(MODEL, false)).status())
        .isEqualTo(200);
    Http.Response r = null;
    for (int i = 0; i < 20; i++) { // tokens are charged right after the answer; allow the charge to land
      r = http.post(gw.baseUrl + "/v1/chat/completions", key.plaintext(), chat(MODEL, false));
      if (r.status() == 429) {
        break;
      }
    }
    assertThat(r.status()).isEqualTo(429);
    assertThat(r.json().getJsonObject("error").getString("message")).contains("tokens per minute");
  }

  @Test
  void upstreamClientErrorsAreRelayedAsTheyCame() {
    var key = gw.key("lou");
    Http.Response r = http.post(gw.baseUrl + "/v1/chat/completions", key.plaintext(),
        chat(MODEL, false).put("max_tokens", 1_000_000));
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.json().getJsonObject("error").getString("message")).contains("context length");
  }

  @Test
  void modelWithoutReplicasGets503AndDeadReplicaGets502() {
    var key = gw.key("max");
    gw.model("test/empty");
    Http.Response none = http.post(gw.baseUrl + "/v1/chat/completions", key.plaintext(), chat("test/empty", false));
    assertThat(none.status()).isEqualTo(503);
    assertThat(none.json().getJsonObject("error").getString("code")).isEqualTo("no_healthy_replica");

    ModelRow dead = gw.model("test/dead");
    gw.replica(dead, "http://127.0.0.1:" + TestServices.freePort());
    Http.Response r = http.post(gw.baseUrl + "/v1/chat/completions", key.plaintext(), chat("test/dead", false));
    assertThat(r.status()).isEqualTo(502);
    assertThat(r.json().getJsonObject("error").getString("code")).isEqualTo("upstream_unreachable");
  }

  @Test
  void upstreamServerErrorsBecome502And503() {
    var key = gw.key("ned");
    SimulatorVerticle failing = gw.simulator(0, GatewayHarness.simSettings("test/failing",
        new JsonObject().put("errorRate", 1.0)));
    gw.replica(gw.model("test/failing"), "http://127.0.0.1:" + failing.actualPort());
    Http.Response r = http.post(gw.baseUrl + "/v1/chat/completions", key.plaintext(), chat("test/failing", false));
    assertThat(r.status()).isEqualTo(502);
    assertThat(r.json().getJsonObject("error").getString("type")).isEqualTo("upstream_error");

    SimulatorVerticle busy = gw.simulator(0, GatewayHarness.simSettings("test/busy",
        new JsonObject().put("unavailableRate", 1.0)));
    gw.replica(gw.model("test/busy"), "http://127.0.0.1:" + busy.actualPort() + "/v1");
    Http.Response b = http.post(gw.baseUrl + "/v1/chat/completions", key.plaintext(), chat("test/busy", false));
    assertThat(b.status()).isEqualTo(503);
  }

  @Test
  void unknownOpenAiPathsGetJson404() {
    Http.Response r = http.get(gw.baseUrl + "/v1/nothing-here", null);
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.json().getJsonObject("error").getString("code")).isEqualTo("not_found");
  }

  @Test
  void prometheusEndpointCountsRequests() throws InterruptedException {
    var key = gw.key("ola");
    http.post(gw.baseUrl + "/v1/chat/completions", key.plaintext(), chat(MODEL, false));
    String text = Poll.value("the request counted in /metrics", java.time.Duration.ofSeconds(5),
        () -> http.get(gw.baseUrl + "/metrics", gw.config.adminApiKey()).body().toString(),
        t -> t.contains("gateway_requests_total{model=\"" + MODEL + "\",status=\"200\"}"));
    assertThat(text).contains("gateway_requests_total{model=\"" + MODEL + "\",status=\"200\"}");
    assertThat(text).contains("gateway_tokens_total{model=\"" + MODEL + "\",type=\"completion\"}");
    assertThat(text).contains("gateway_upstream_latency_seconds_bucket");
    assertThat(text).contains("gateway_time_to_first_token_seconds_bucket");
    assertThat(text).contains("gateway_requests_in_flight");
  }
}
