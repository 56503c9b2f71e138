package io.inferencegateway.simulator;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The OpenAI-compatible surface: shapes, usage arithmetic and SSE framing. */
class SimulatorApiTest extends SimulatorTestBase {

  @Test
  void healthAndModels() {
    SimulatorVerticle sim = deploy(settings());
    Reply health = get(sim, "/health");
    assertThat(health.status()).isEqualTo(200);
    assertThat(health.body()).isEmpty();

    Reply models = get(sim, "/v1/models");
    assertThat(models.status()).isEqualTo(200);
    assertThat(models.headers().get("content-type")).isEqualTo("application/json");
    JsonObject list = models.json();
    assertThat(list.getString("object")).isEqualTo("list");
    JsonArray data = list.getJsonArray("data");
    assertThat(data).hasSize(2);
    JsonObject card = data.getJsonObject(0);
    assertThat(card.getString("id")).isEqualTo(MODEL);
    assertThat(card.getString("object")).isEqualTo("model");
    assertThat(card.getString("owned_by")).isEqualTo("vllm");
    assertThat(card.getString("root")).isEqualTo(MODEL);
    assertThat(card.containsKey("parent")).isTrue();
    assertThat(card.getValue("parent")).isNull();
    assertThat(card.getInteger("max_model_len")).isEqualTo(15360);
    assertThat(card.getLong("created")).isPositive();
    JsonObject permission = card.getJsonArray("permission").getJsonObject(0);
    assertThat(permission.getString("object")).isEqualTo("model_permission");
    assertThat(permission.getString("id")).startsWith("modelperm-");
    assertThat(data.getJsonObject(1).getString("id")).isEqualTo(OTHER_MODEL);
  }

  @Test
  void chatCompletionShapeAndUsage() {
    SimulatorVerticle sim = deploy(settings());
    JsonObject body = new JsonObject().put("model", MODEL).put("messages", new JsonArray()
        .add(new JsonObject().put("role", "system").put("content", "You are helpful"))
        .add(new JsonObject().put("role", "user").put("content", "Say hello to the world")));
    long before = System.currentTimeMillis() / 1000;
    Reply reply = post(sim, "/v1/chat/completions", body);
    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.headers().get("content-type")).isEqualTo("application/json");
    JsonObject json = reply.json();
    assertThat(json.fieldNames()).containsExactly("id", "object", "created", "model", "choices", "usage",
        "prompt_logprobs");
    assertThat(json.getString("id")).matches("chatcmpl-[0-9a-f]{32}");
    assertThat(json.getString("object")).isEqualTo("chat.completion");
    assertThat(json.getLong("created")).isBetween(before, before + 5);
    assertThat(json.getString("model")).isEqualTo(MODEL);
    JsonArray choices = json.getJsonArray("choices");
    assertThat(choices).hasSize(1);
    JsonObject choice = choices.getJsonObject(0);
    assertThat(choice.fieldNames()).containsExactly("index", "message", "logprobs", "finish_reason", "stop_reason");
    assertThat(choice.getInteger("index")).isZero();
    assertThat(choice.getString("finish_reason")).isEqualTo("stop");
    JsonObject message = choice.getJsonObject("message");
    assertThat(message.getString("role")).isEqualTo("assistant");
    assertThat(message.getJsonArray("tool_calls")).isEmpty();
    assertThat(message.getString("content").split(" ")).hasSize(20);

    // Prompt estimate: words (3 + 5) + 4 per message (2) + 2.
    JsonObject usage = json.getJsonObject("usage");
    assertThat(usage.fieldNames()).containsExactly("prompt_tokens", "total_tokens", "completion_tokens",
        "prompt_tokens_details");
    assertThat(usage.getInteger("prompt_tokens")).isEqualTo(18);
    assertThat(usage.getInteger("completion_tokens")).isEqualTo(20);
    assertThat(usage.getInteger("total_tokens")).isEqualTo(38);

    // Deterministic: the same request gets the same text.
    String again = post(sim, "/v1/chat/completions", body).json().getJsonArray("choices").getJsonObject(0)
        .getJsonObject("message").getString("content");
    assertThat(again).isEqualTo(message.getString("content"));
  }

  @Test
  void maxTokensCutsWithLengthAndNGivesChoices() {
    SimulatorVerticle sim = deploy(settings());
    JsonObject json = post(sim, "/v1/chat/completions", chat(MODEL, "hi").put("max_tokens", 5).put("n", 2)).json();
    JsonArray choices = json.getJsonArray("choices");
    assertThat(choices).hasSize(2);
    for (int i = 0; i < 2; i++) {
      JsonObject c = choices.getJsonObject(i);
      assertThat(c.getInteger("index")).isEqualTo(i);
      assertThat(c.getString("finish_reason")).isEqualTo("length");
      assertThat(c.getJsonObject("message").getString("content").split(" ")).hasSize(5);
    }
    assertThat(json.getJsonObject("usage").getInteger("completion_tokens")).isEqualTo(10);
    // max_completion_tokens is the newer name and wins.
    JsonObject newer = post(sim, "/v1/chat/completions",
        chat(MODEL, "hi").put("max_tokens", 5).put("max_completion_tokens", 3)).json();
    assertThat(newer.getJsonObject("usage").getInteger("completion_tokens")).isEqualTo(3);
  }

  @Test
  void streamFraming() {
    SimulatorVerticle sim = deploy(settings());
    Reply reply = post(sim, "/v1/chat/completions", chat(MODEL, "hello there").put("stream", true)
        .put("stream_options", new JsonObject().put("include_usage", true)));
    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.headers().get("content-type")).isEqualTo("text/event-stream; charset=utf-8");
    List<String> data = sseData(reply.body());
    // role, 20 tokens, finish, usage, [DONE]
    assertThat(data).hasSize(24);
    assertThat(data.get(data.size() - 1)).isEqualTo("[DONE]");

    JsonObject role = new JsonObject(data.get(0));
    String id = role.getString("id");
    long created = role.getLong("created");
    assertThat(id).startsWith("chatcmpl-");
    assertThat(role.getString("object")).isEqualTo("chat.completion.chunk");
    assertThat(role.containsKey("usage")).isFalse();
    JsonObject roleChoice = role.getJsonArray("choices").getJsonObject(0);
    assertThat(roleChoice.getJsonObject("delta")).isEqualTo(new JsonObject().put("role", "assistant").put("content", ""));
    assertThat(roleChoice.fieldNames()).containsExactly("index", "delta", "logprobs", "finish_reason");

    StringBuilder text = new StringBuilder();
    for (int i = 1; i <= 20; i++) {
      JsonObject chunk = new JsonObject(data.get(i));
      assertThat(chunk.getString("id")).isEqualTo(id);
      assertThat(chunk.getLong("created")).isEqualTo(created);
      assertThat(chunk.getString("model")).isEqualTo(MODEL);
      JsonObject choice = chunk.getJsonArray("choices").getJsonObject(0);
      assertThat(choice.fieldNames()).containsExactly("index", "delta", "logprobs", "finish_reason");
      assertThat(choice.getValue("logprobs")).isNull();
      assertThat(choice.getValue("finish_reason")).isNull();
      assertThat(choice.getJsonObject("delta").fieldNames()).containsExactly("content");
      text.append(choice.getJsonObject("delta").getString("content"));
    }
    JsonObject finish = new JsonObject(data.get(21)).getJsonArray("choices").getJsonObject(0);
    assertThat(finish.getString("finish_reason")).isEqualTo("stop");
    assertThat(finish.containsKey("stop_reason")).isTrue();
    assertThat(finish.getJsonObject("delta").getString("content")).isEmpty();

    JsonObject usageChunk = new JsonObject(data.get(22));
    assertThat(usageChunk.getJsonArray("choices")).isEmpty();
    JsonObject usage = usageChunk.getJsonObject("usage");
    assertThat(usage.getInteger("prompt_tokens")).isEqualTo(8);
    assertThat(usage.getInteger("completion_tokens")).isEqualTo(20);
    assertThat(usage.getInteger("total_tokens")).isEqualTo(28);

    // The streamed text is the non-streamed answer.
    String full = post(sim, "/v1/chat/completions", chat(MODEL, "hello there")).json().getJsonArray("choices")
        .getJsonObject(0).getJsonObject("message").getString("content");
    assertThat(text.toString()).isEqualTo(full);
  }

  @Test
  void streamWithoutUsageOptionHasNoUsageChunk() {
    SimulatorVerticle sim = deploy(settings(new JsonObject().put("tokensPerAnswer", 4)));
    List<String> data = sseData(post(sim, "/v1/chat/completions", chat(MODEL, "hi").put("stream", true)).body());
    assertThat(data).hasSize(1 + 4 + 1 + 1);
    assertThat(data).noneMatch(d -> d.contains("\"usage\""));
    assertThat(data.get(data.size() - 1)).isEqualTo("[DONE]");
  }

  @Test
  void streamWithTimersAndContinuousUsage() {
    SimulatorVerticle sim = deploy(settings(new JsonObject().put("tokensPerAnswer", 5)
        .put("timeToFirstTokenMs", 30).put("interTokenMs", 5)));
    List<String> data = sseData(post(sim, "/v1/chat/completions", chat(MODEL, "hi").put("stream", true)
        .put("max_tokens", 3)
        .put("stream_options", new JsonObject().put("include_usage", true).put("continuous_usage_stats", true)))
        .body());
    // role, 3 tokens, finish(length), usage, [DONE]
    assertThat(data).hasSize(7);
    for (int i = 0; i < 5; i++) {
      JsonObject usage = new JsonObject(data.get(i)).getJsonObject("usage");
      int expected = Math.min(i, 3);
      assertThat(usage.getInteger("completion_tokens")).as("chunk %d", i).isEqualTo(expected);
      assertThat(usage.getInteger("prompt_tokens")).isEqualTo(7);
    }
    assertThat(new JsonObject(data.get(4)).getJsonArray("choices").getJsonObject(0).getString("finish_reason"))
        .isEqualTo("length");
    assertThat(new JsonObject(data.get(5)).getJsonObject("usage").getInteger("total_tokens")).isEqualTo(10);
    assertThat(data.get(6)).isEqualTo("[DONE]");
    assertThat(sim.stats().completed()).isEqualTo(1);
  }

  @Test
  void unknownModelMalformedJsonAndContextLength() {
    SimulatorVerticle sim = deploy(settings(new JsonObject().put("maxModelLen", 30)));
    Reply unknown = post(sim, "/v1/chat/completions", chat("gpt-4", "hi"));
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.json()).isEqualTo(new JsonObject().put("error", new JsonObject()
        .put("message", "The model `gpt-4` does not exist.").put("type", "NotFoundError").put("param", "model")
        .put("code", 404)));

    Reply malformed = post(sim, "/v1/chat/completions", "{\"model\":");
    assertThat(malformed.status()).isEqualTo(400);
    JsonObject error = malformed.json().getJsonObject("error");
    assertThat(error.getString("type")).isEqualTo("BadRequestError");
    assertThat(error.getInteger("code")).isEqualTo(400);
    assertThat(error.containsKey("param")).isTrue();

    Reply noMessages = post(sim, "/v1/chat/completions", new JsonObject().put("model", MODEL));
    assertThat(noMessages.status()).isEqualTo(400);
    assertThat(noMessages.json().getJsonObject("error").getString("message")).contains("messages");

    Reply noModel = post(sim, "/v1/chat/completions", chat(MODEL, "hi").put("model", (String) null));
    assertThat(noModel.status()).isEqualTo(400);

    // 7 prompt tokens + 24 > 30
    Reply tooLong = post(sim, "/v1/chat/completions", chat(MODEL, "hi").put("max_tokens", 24));
    assertThat(tooLong.status()).isEqualTo(400);
    assertThat(tooLong.json().getJsonObject("error").getString("message")).isEqualTo(
        "This model's maximum context length is 30 tokens. However, you requested 31 tokens (7 in the messages,"
            + " 24 in the completion). Please reduce the length of the messages or completion.");
    // Without max_tokens the answer fits what is left of the context: 30 - 7 = 23 >= 20.
    assertThat(post(sim, "/v1/chat/completions", chat(MODEL, "hi")).status()).isEqualTo(200);

    Reply streamOptionsWithoutStream = post(sim, "/v1/chat/completions",
        chat(MODEL, "hi").put("stream_options", new JsonObject().put("include_usage", true)));
    assertThat(streamOptionsWithoutStream.status()).isEqualTo(400);
  }

  @Test
  void completionsShapeAndStream() {
    SimulatorVerticle sim = deploy(settings());
    JsonObject json = post(sim, "/v1/completions",
        new JsonObject().put("model", OTHER_MODEL).put("prompt", "Once upon a time")).json();
    assertThat(json.getString("id")).startsWith("cmpl-");
    assertThat(json.getString("object")).isEqualTo("text_completion");
    assertThat(json.getString("model")).isEqualTo(OTHER_MODEL);
    JsonObject choice = json.getJsonArray("choices").getJsonObject(0);
    assertThat(choice.fieldNames()).containsExactly("index", "text", "logprobs", "finish_reason", "stop_reason",
        "prompt_logprobs");
    // vLLM's completions default to max_tokens 16, shorter than the 20-token answer.
    // Every completion token carries its leading space, so prompt + text splits into the same words.
    assertThat(choice.getString("text")).startsWith(" ");
    assertThat(choice.getString("text").trim().split(" ")).hasSize(16);
    assertThat(choice.getString("finish_reason")).isEqualTo("length");
    JsonObject usage = json.getJsonObject("usage");
    assertThat(usage.getInteger("prompt_tokens")).isEqualTo(5); // 4 words + BOS
    assertThat(usage.getInteger("completion_tokens")).isEqualTo(16);
    assertThat(usage.getInteger("total_tokens")).isEqualTo(21);

    JsonObject two = post(sim, "/v1/completions", new JsonObject().put("model", MODEL)
        .put("prompt", new JsonArray().add("a b").add("c")).put("max_tokens", 50)).json();
    assertThat(two.getJsonArray("choices")).hasSize(2);
    assertThat(two.getJsonArray("choices").getJsonObject(1).getString("finish_reason")).isEqualTo("stop");
    assertThat(two.getJsonObject("usage").getInteger("prompt_tokens")).isEqualTo(5);
    assertThat(two.getJsonObject("usage").getInteger("completion_tokens")).isEqualTo(40);

    List<String> data = sseData(post(sim, "/v1/completions", new JsonObject().put("model", MODEL)
        .put("prompt", "hi").put("max_tokens", 3).put("stream", true)).body());
    assertThat(data).hasSize(3 + 1 + 1);
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < 3; i++) {
      JsonObject chunk = new JsonObject(data.get(i));
      assertThat(chunk.getString("object")).isEqualTo("text_completion");
      assertThat(chunk.containsKey("usage")).isTrue();
      assertThat(chunk.getValue("usage")).isNull();
      JsonObject c = chunk.getJsonArray("choices").getJsonObject(0);
      assertThat(c.getValue("finish_reason")).isNull();
      text.append(c.getString("text"));
    }
    assertThat(text.toString().trim().split(" ")).hasSize(3);
    assertThat(text.toString()).isEqualTo(post(sim, "/v1/completions", new JsonObject().put("model", MODEL)
        .put("prompt", "hi").put("max_tokens", 3)).json().getJsonArray("choices").getJsonObject(0).getString("text"));
    assertThat(new JsonObject(data.get(3)).getJsonArray("choices").getJsonObject(0).getString("finish_reason"))
        .isEqualTo("length");
    assertThat(data.get(4)).isEqualTo("[DONE]");

    Reply empty = post(sim, "/v1/completions", new JsonObject().put("model", MODEL).put("prompt", ""));
    assertThat(empty.status()).isEqualTo(400);
  }

  @Test
  void embeddingsAreDeterministicUnitVectors() {
    SimulatorVerticle sim = deploy(settings());
    JsonObject json = post(sim, "/v1/embeddings", new JsonObject().put("model", MODEL)
        .put("input", new JsonArray().add("hello world").add("another text"))).json();
    assertThat(json.getString("id")).startsWith("embd-");
    assertThat(json.getString("object")).isEqualTo("list");
    JsonArray data = json.getJsonArray("data");
    assertThat(data).hasSize(2);
    for (int i = 0; i < 2; i++) {
      JsonObject item = data.getJsonObject(i);
      assertThat(item.getInteger("index")).isEqualTo(i);
      assertThat(item.getString("object")).isEqualTo("embedding");
      JsonArray vector = item.getJsonArray("embedding");
      assertThat(vector).hasSize(384);
      double norm = 0;
      for (int d = 0; d < vector.size(); d++) {
        double v = vector.getDouble(d);
        norm += v * v;
      }
      assertThat(Math.sqrt(norm)).isCloseTo(1.0, within(1e-4));
    }
    assertThat(data.getJsonObject(0).getJsonArray("embedding"))
        .isNotEqualTo(data.getJsonObject(1).getJsonArray("embedding"));
    JsonObject usage = json.getJsonObject("usage");
    assertThat(usage.getInteger("prompt_tokens")).isEqualTo(6);
    assertThat(usage.getInteger("total_tokens")).isEqualTo(6);
    assertThat(usage.getInteger("completion_tokens")).isZero();

    JsonObject single = post(sim, "/v1/embeddings", new JsonObject().put("model", MODEL).put("input", "hello world"))
        .json();
    assertThat(single.getJsonArray("data").getJsonObject(0).getJsonArray("embedding"))
        .isEqualTo(data.getJsonObject(0).getJsonArray("embedding"));
  }

  @Test
  void unknownPathAndWrongMethod() {
    SimulatorVerticle sim = deploy(settings());
    Reply missing = get(sim, "/v2/nothing");
    assertThat(missing.status()).isEqualTo(404);
    assertThat(missing.json().getJsonObject("error").getInteger("code")).isEqualTo(404);
    Reply wrong = send(sim.actualPort(), HttpMethod.GET, "/v1/chat/completions", null).await();
    assertThat(wrong.status()).isEqualTo(405);
    assertThat(wrong.json().getJsonObject("error").getInteger("code")).isEqualTo(405);
    assertThat(post(sim, "/v1/models", new JsonObject()).status()).isEqualTo(405);
  }

  @Test
  void requestIdHeaderBecomesTheResponseId() {
    SimulatorVerticle sim = deploy(settings());
    Reply reply = send(new io.vertx.core.http.RequestOptions().setMethod(HttpMethod.POST)
        .setPort(sim.actualPort()).setURI("/v1/chat/completions").putHeader("X-Request-Id", "abc-123"),
        chat(MODEL, "hi").encode()).await();
    assertThat(reply.json().getString("id")).isEqualTo("chatcmpl-abc-123");
  }
}
