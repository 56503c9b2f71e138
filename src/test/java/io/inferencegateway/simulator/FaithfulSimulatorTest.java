package io.inferencegateway.simulator;

import io.inferencegateway.routing.LoadReport;
import io.inferencegateway.scheduler.VllmMetrics;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The faithful engine over real HTTP: prefix-cache hits with their modelled time to first token, KV-full
 * waiting, the vLLM series on /metrics (and the gateway's parser reading them), framing and faults.
 */
class FaithfulSimulatorTest extends SimulatorTestBase {

  private static SimulatorSettings faithful(JsonObject patch) {
    return settings(new JsonObject().put("engine", "faithful").mergeIn(patch));
  }

  private static double metric(String text, String series) {
    for (String line : text.split("\n")) {
      if (line.startsWith(series + " ")) {
        return Double.parseDouble(line.substring(series.length() + 1));
      }
    }
    throw new AssertionError("no " + series + " in\n" + text);
  }

  private static String labels(String model) {
    return "{model_name=\"" + model + "\"}";
  }

  private static String words(String prefix, int n) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      sb.append(i > 0 ? " " : "").append(prefix).append(i);
    }
    return sb.toString();
  }

  private static JsonObject withSystem(String system, String user) {
    return new JsonObject().put("model", MODEL).put("messages", new JsonArray()
        .add(new JsonObject().put("role", "system").put("content", system))
        .add(new JsonObject().put("role", "user").put("content", user)));
  }

  @Test
  void aSecondRequestSharingALongPrefixHitsTheCacheAndHasALowerModelledTtft() {
    SimulatorVerticle sim = deploy(faithful(new JsonObject().put("tokensPerAnswer", 4)));
    String system = words("rule", 1000);
    String ttftSum = "vllm:time_to_first_token_seconds_sum" + labels(MODEL);

    JsonObject first = post(sim, "/v1/chat/completions", withSystem(system, "first question here")).json();
    JsonObject usage1 = first.getJsonObject("usage");
    int prompt1 = usage1.getInteger("prompt_tokens");
    assertThat(prompt1).isEqualTo(2 + (4 + 1000) + (4 + 3));
    assertThat(usage1.getJsonObject("prompt_tokens_details").getInteger("cached_tokens")).isZero();
    String after1 = get(sim, "/metrics").body();
    double ttft1 = metric(after1, ttftSum);
    // Alone on an idle engine, the first token comes one prefill step after arrival.
    assertThat(ttft1).isCloseTo((6.5 + 0.075 * prompt1) / 1000, within(1e-9));
    assertThat(metric(after1, "vllm:prefix_cache_queries_total" + labels(MODEL))).isEqualTo(prompt1);
    assertThat(metric(after1, "vllm:prefix_cache_hits_total" + labels(MODEL))).isZero();

    // Streamed this time: the usage chunk carries the cached tokens too.
    Reply second = post(sim, "/v1/chat/completions", withSystem(system, "a different question now")
        .put("stream", true).put("stream_options", new JsonObject().put("include_usage", true)));
    List<String> data = sseData(second.body());
    JsonObject usage2 = new JsonObject(data.get(data.size() - 2)).getJsonObject("usage");
    int prompt2 = usage2.getInteger("prompt_tokens");
    // Shared: the system message (header, 1000 words, end of turn) and the user header: 1006 tokens,
    // of which the 62 full blocks are cached.
    int cached = 62 * 16;
    assertThat(usage2.getJsonObject("prompt_tokens_details").getInteger("cached_tokens")).isEqualTo(cached);
    String after2 = get(sim, "/metrics").body();
    assertThat(metric(after2, "vllm:prefix_cache_queries_total" + labels(MODEL))).isEqualTo(prompt1 + prompt2);
    assertThat(metric(after2, "vllm:prefix_cache_hits_total" + labels(MODEL))).isEqualTo(cached);
    assertThat(metric(after2, "vllm:time_to_first_token_seconds_count" + labels(MODEL))).isEqualTo(2.0);
    double ttft2 = metric(after2, ttftSum) - ttft1;
    assertThat(ttft2).isCloseTo((6.5 + 0.075 * (prompt2 - cached)) / 1000, within(1e-9));
    assertThat(ttft2).isLessThan(ttft1 / 5);

    JsonObject engine = get(sim, "/sim/stats").json().getJsonObject("engines").getJsonObject(MODEL);
    assertThat(engine.getLong("prefixCacheHits")).isEqualTo(cached);
    assertThat(engine.getInteger("running")).isZero();
    assertThat(engine.getLong("steps")).isEqualTo(2 * 4);
  }

  @Test
  void metricsCarryTheVllmSeriesAndTheGatewayParserReadsThem() {
    SimulatorVerticle sim = deploy(faithful(new JsonObject().put("kvCacheTokens", 32768)));
    assertThat(post(sim, "/v1/chat/completions", chat(MODEL, "hello there")).status()).isEqualTo(200);
    String text = get(sim, "/metrics").body();
    for (String counter : List.of("vllm:prefix_cache_queries_total", "vllm:prefix_cache_hits_total",
        "vllm:num_preemptions_total", "vllm:prompt_tokens_total", "vllm:generation_tokens_total")) {
      assertThat(text).contains("# TYPE " + counter + " counter");
    }
    assertThat(text).contains("# TYPE vllm:time_to_first_token_seconds histogram")
        .contains("# TYPE vllm:e2e_request_latency_seconds histogram")
        .contains("vllm:time_to_first_token_seconds_bucket{model_name=\"" + MODEL + "\",le=\"0.001\"} 0.0")
        .contains("vllm:time_to_first_token_seconds_bucket{model_name=\"" + MODEL + "\",le=\"+Inf\"} 1.0")
        .contains("vllm:cache_config_info{block_size=\"16\",enable_prefix_caching=\"True\",model_name=\""
            + MODEL + "\",num_gpu_blocks=\"2048\"} 1.0");
    // An 8-token prompt alone: 6.5 + 0.6 ms lands in the 0.01 bucket.
    assertThat(metric(text, "vllm:time_to_first_token_seconds_bucket{model_name=\"" + MODEL + "\",le=\"0.005\"}"))
        .isZero();
    assertThat(metric(text, "vllm:time_to_first_token_seconds_bucket{model_name=\"" + MODEL + "\",le=\"0.01\"}"))
        .isEqualTo(1.0);
    assertThat(metric(text, "vllm:generation_tokens_total" + labels(MODEL))).isEqualTo(20.0);
    LoadReport idle = VllmMetrics.parse(text, 0);
    assertThat(idle).isNotNull();
    assertThat(idle.running()).isZero();
    assertThat(idle.waiting()).isZero();
  }

  @Test
  void whenTheKvCacheIsFullNewRequestsWaitAndMetricsSaySo() {
    // Four blocks: a 40-token prompt takes three, a 30-token one needs two.
    SimulatorVerticle sim = deploy(faithful(new JsonObject().put("kvCacheTokens", 64).put("maxModelLen", 64)
        .put("stepBaseMs", 150).put("tokensPerAnswer", 10)));
    Future<Reply> big = send(sim.actualPort(), HttpMethod.POST, "/v1/chat/completions",
        chat(MODEL, words("w", 34)).encode());
    awaitCondition("the first running", () -> sim.running() == 1);
    Future<Reply> small = send(sim.actualPort(), HttpMethod.POST, "/v1/chat/completions",
        chat(MODEL, words("v", 24)).encode());
    awaitCondition("the second waiting", () -> sim.waiting() == 1);
    String text = get(sim, "/metrics").body();
    assertThat(metric(text, "vllm:num_requests_running" + labels(MODEL))).isEqualTo(1.0);
    assertThat(metric(text, "vllm:num_requests_waiting" + labels(MODEL))).isEqualTo(1.0);
    assertThat(metric(text, "vllm:kv_cache_usage_perc" + labels(MODEL))).isGreaterThanOrEqualTo(0.75);
    LoadReport busy = VllmMetrics.parse(text, 0);
    assertThat(busy.running()).isEqualTo(1.0);
    assertThat(busy.waiting()).isEqualTo(1.0);
    assertThat(busy.kvCacheUsage()).isGreaterThanOrEqualTo(0.75);
    assertThat(big.await().status()).isEqualTo(200);
    assertThat(small.await().status()).isEqualTo(200);
    awaitCondition("idle", () -> sim.running() == 0 && sim.waiting() == 0);
  }

  @Test
  void answersAndFramingAreTheInstantEngines() {
    SimulatorVerticle instant = deploy(settings());
    SimulatorVerticle batched = deploy(faithful(new JsonObject()));
    JsonObject body = chat(MODEL, "Say hello to the world").put("n", 2).put("max_tokens", 6);
    JsonObject a = post(instant, "/v1/chat/completions", body).json();
    JsonObject b = post(batched, "/v1/chat/completions", body).json();
    assertThat(b.getJsonArray("choices")).isEqualTo(a.getJsonArray("choices"));
    assertThat(b.getJsonObject("usage").getInteger("completion_tokens")).isEqualTo(12);

    JsonObject streamed = chat(MODEL, "Say hello to the world").put("stream", true);
    List<String> sa = sseData(post(instant, "/v1/chat/completions", streamed).body());
    List<String> sb = sseData(post(batched, "/v1/chat/completions", streamed).body());
    assertThat(sb).hasSameSizeAs(sa).hasSize(1 + 20 + 1 + 1);
    for (int i = 0; i < sa.size() - 1; i++) {
      assertThat(new JsonObject(sb.get(i)).getJsonArray("choices"))
          .isEqualTo(new JsonObject(sa.get(i)).getJsonArray("choices"));
    }
    assertThat(sb.get(sb.size() - 1)).isEqualTo("[DONE]");

    JsonObject completion = new JsonObject().put("model", MODEL).put("prompt", new JsonArray().add("a b").add("c"))
        .put("max_tokens", 5);
    assertThat(post(batched, "/v1/completions", completion).json().getJsonArray("choices"))
        .isEqualTo(post(instant, "/v1/completions", completion).json().getJsonArray("choices"));
    // Embeddings do not go through the batch engine.
    assertThat(post(batched, "/v1/embeddings", new JsonObject().put("model", MODEL).put("input", "x")).status())
        .isEqualTo(200);
  }

  @Test
  void theEngineCanBeSwitchedAtRuntime() {
    SimulatorVerticle sim = deploy(settings());
    assertThat(post(sim, "/v1/chat/completions", chat(MODEL, "hi")).json().getJsonObject("usage")
        .getValue("prompt_tokens_details")).isNull();
    assertThat(post(sim, "/sim/settings", new JsonObject().put("engine", "faithful")).status()).isEqualTo(200);
    assertThat(post(sim, "/v1/chat/completions", chat(MODEL, "hi")).json().getJsonObject("usage")
        .getJsonObject("prompt_tokens_details").getInteger("cached_tokens")).isZero();
    Reply bad = post(sim, "/sim/settings", new JsonObject().put("engine", "quantum"));
    assertThat(bad.status()).isEqualTo(400);
    assertThat(bad.json().getJsonObject("error").getString("message")).contains("engine");
    Reply tooSmall = post(sim, "/sim/settings", new JsonObject().put("kvCacheTokens", 1024));
    assertThat(tooSmall.status()).isEqualTo(400);
    assertThat(tooSmall.json().getJsonObject("error").getString("message")).contains("maxModelLen");
  }

  @Test
  void droppedAndCancelledStreamsGiveTheirBlocksBack() {
    SimulatorVerticle sim = deploy(faithful(new JsonObject().put("dropMidStreamRate", 1.0)));
    Reply dropped = send(new RequestOptions().setMethod(HttpMethod.POST).setPort(sim.actualPort())
        .setURI("/v1/chat/completions"), chat(MODEL, "hi").put("stream", true).encode())
        .otherwise(t -> null).await();
    if (dropped != null) {
      assertThat(dropped.body()).doesNotContain("[DONE]");
    }
    awaitCondition("drop counted", () -> sim.stats().faults().get("drop") == 1);
    awaitCondition("slot released", () -> sim.running() == 0);

    sim.updateSettings(sim.settings().merge(new JsonObject().put("dropMidStreamRate", 0).put("stepBaseMs", 50)
        .put("tokensPerAnswer", 200)));
    onContext(() -> {
      Promise<Void> firstChunk = Promise.promise();
      client.request(new RequestOptions().setMethod(HttpMethod.POST).setPort(sim.actualPort())
              .setURI("/v1/chat/completions"))
          .compose(req -> req.send(chat(MODEL, "hi").put("stream", true).encode()))
          .onSuccess(resp -> resp.handler(b -> {
            if (b.toString().contains("content\":\"") && firstChunk.tryComplete()) {
              resp.request().connection().close();
            }
          }));
      return firstChunk.future();
    }).await();
    awaitCondition("cancel counted", () -> sim.cancelled() == 1);
    awaitCondition("slot released", () -> sim.running() == 0);
    JsonObject engine = get(sim, "/sim/stats").json().getJsonObject("engines").getJsonObject(MODEL);
    assertThat(engine.getInteger("heldBlocks")).isZero();
    assertThat(engine.getDouble("kvCacheUsage")).isZero();
  }

  @Test
  void aContinuationReusesTheBlocksOfTheBrokenAnswer() {
    SimulatorVerticle sim = deploy(faithful(new JsonObject()));
    JsonObject original = chat(MODEL, words("topic", 100));
    JsonObject full = post(sim, "/v1/chat/completions", original).json();
    String text = full.getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content");
    List<String> words = new ArrayList<>(List.of(text.split(" ")));
    JsonObject continuation = original.copy().put("continue_final_message", true).put("add_generation_prompt", false);
    continuation.getJsonArray("messages").add(new JsonObject().put("role", "assistant")
        .put("content", String.join(" ", words.subList(0, 10))));
    JsonObject rest = post(sim, "/v1/chat/completions", continuation).json();
    int prompt = rest.getJsonObject("usage").getInteger("prompt_tokens");
    assertThat(prompt).isEqualTo(full.getJsonObject("usage").getInteger("prompt_tokens") + 10);
    // The original prompt and the answer's first words are cached: all full blocks.
    assertThat(rest.getJsonObject("usage").getJsonObject("prompt_tokens_details").getInteger("cached_tokens"))
        .isEqualTo((prompt - 1) / 16 * 16);
    assertThat(text).isEqualTo(String.join(" ", words.subList(0, 10))
        + rest.getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content"));
  }
}
