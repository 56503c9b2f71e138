package io.inferencegateway.simulator;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A broken answer resumed with a continuation (vLLM's {@code continue_final_message}, or a completion prompt
 * followed by the text so far) joins into exactly the answer of an unbroken run, with both engines.
 */
class ContinuationTest extends SimulatorTestBase {

  /** What a client assembles from one request: text pieces in order, the finish reason and the usage. */
  private record Answer(List<String> pieces, String finish, JsonObject usage) {
    String text() {
      return String.join("", pieces);
    }

    String firstPieces(int k) {
      return String.join("", pieces.subList(0, k));
    }
  }

  private static SimulatorSettings engine(String engine) {
    return settings(new JsonObject().put("engine", engine));
  }

  private Answer chatPlain(SimulatorVerticle sim, JsonObject body) {
    Reply r = post(sim, "/v1/chat/completions", body);
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    JsonObject choice = r.json().getJsonArray("choices").getJsonObject(0);
    return new Answer(List.of(choice.getJsonObject("message").getString("content")),
        choice.getString("finish_reason"), r.json().getJsonObject("usage"));
  }

  private Answer chatStreamed(SimulatorVerticle sim, JsonObject body) {
    Reply r = post(sim, "/v1/chat/completions", body.copy().put("stream", true)
        .put("stream_options", new JsonObject().put("include_usage", true)));
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    List<String> data = sseData(r.body());
    assertThat(data.get(data.size() - 1)).isEqualTo("[DONE]");
    List<String> pieces = new ArrayList<>();
    String finish = null;
    JsonObject usage = null;
    for (String d : data.subList(0, data.size() - 1)) {
      JsonObject chunk = new JsonObject(d);
      JsonArray choices = chunk.getJsonArray("choices");
      if (choices.isEmpty()) {
        usage = chunk.getJsonObject("usage");
        continue;
      }
      JsonObject choice = choices.getJsonObject(0);
      JsonObject delta = choice.getJsonObject("delta");
      if (choice.getString("finish_reason") != null) {
        assertThat(finish).as("one finish event").isNull();
        finish = choice.getString("finish_reason");
      } else if (!delta.containsKey("role")) {
        pieces.add(delta.getString("content"));
      }
    }
    return new Answer(pieces, finish, usage);
  }

  private Answer completionPlain(SimulatorVerticle sim, JsonObject body) {
    Reply r = post(sim, "/v1/completions", body);
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    JsonObject choice = r.json().getJsonArray("choices").getJsonObject(0);
    return new Answer(List.of(choice.getString("text")), choice.getString("finish_reason"),
        r.json().getJsonObject("usage"));
  }

  private Answer completionStreamed(SimulatorVerticle sim, JsonObject body) {
    Reply r = post(sim, "/v1/completions", body.copy().put("stream", true)
        .put("stream_options", new JsonObject().put("include_usage", true)));
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    List<String> data = sseData(r.body());
    List<String> pieces = new ArrayList<>();
    String finish = null;
    JsonObject usage = null;
    for (String d : data.subList(0, data.size() - 1)) {
      JsonObject chunk = new JsonObject(d);
      JsonArray choices = chunk.getJsonArray("choices");
      if (choices.isEmpty()) {
        usage = chunk.getJsonObject("usage");
      } else if (choices.getJsonObject(0).getString("finish_reason") != null) {
        finish = choices.getJsonObject(0).getString("finish_reason");
      } else {
        pieces.add(choices.getJsonObject(0).getString("text"));
      }
    }
    return new Answer(pieces, finish, usage);
  }

  /** The original chat request plus the text so far as an assistant message to continue. */
  private static JsonObject chatContinuation(JsonObject original, String soFar, int k) {
    JsonObject c = original.copy();
    c.getJsonArray("messages").add(new JsonObject().put("role", "assistant").put("content", soFar));
    c.put("continue_final_message", true).put("add_generation_prompt", false);
    for (String budget : List.of("max_tokens", "max_completion_tokens")) {
      if (c.containsKey(budget)) {
        c.put(budget, c.getInteger(budget) - k);
      }
    }
    return c;
  }

  private static JsonObject message(String role, Object content) {
    return new JsonObject().put("role", role).put("content", content);
  }

  private static List<JsonObject> chatRequests() {
    return List.of(
        new JsonObject().put("model", MODEL).put("messages", new JsonArray()
            .add(message("user", "Tell me about the sea"))),
        new JsonObject().put("model", MODEL).put("max_tokens", 12).put("messages", new JsonArray()
            .add(message("system", "You are terse."))
            .add(message("user", "List three colours."))
            .add(message("assistant", "Red, green, blue."))
            .add(message("user", "And three more?"))),
        new JsonObject().put("model", OTHER_MODEL).put("max_completion_tokens", 7).put("messages", new JsonArray()
            .add(message("user", new JsonArray().add(new JsonObject().put("type", "text").put("text", "Describe a cat"))))));
  }

  @ParameterizedTest
  @ValueSource(strings = {"instant", "faithful"})
  void chatContinuationsJoinIntoTheUnbrokenAnswer(String engine) {
    SimulatorVerticle sim = deploy(engine(engine));
    List<String> texts = new ArrayList<>();
    for (JsonObject original : chatRequests()) {
      Answer full = chatStreamed(sim, original);
      Answer plain = chatPlain(sim, original);
      assertThat(plain.text()).isEqualTo(full.text());
      int total = full.usage().getInteger("completion_tokens");
      assertThat(full.pieces()).hasSize(total);
      texts.add(full.text());
      List<Integer> cuts = new ArrayList<>(List.of(0, 1, total / 2, total - 1));
      if ("stop".equals(full.finish())) {
        cuts.add(total); // everything was sent, only the end was lost
      }
      for (int k : cuts) {
        String soFar = full.firstPieces(k);
        JsonObject continuation = chatContinuation(original, soFar, k);
        for (Answer rest : List.of(chatStreamed(sim, continuation), chatPlain(sim, continuation))) {
          String what = engine + " " + original.getJsonArray("messages").encode() + " cut after " + k;
          assertThat(soFar + rest.text()).as(what).isEqualTo(full.text());
          assertThat(rest.finish()).as(what).isEqualTo(full.finish());
          assertThat(rest.usage().getInteger("completion_tokens")).as(what).isEqualTo(total - k);
          assertThat(rest.usage().getInteger("prompt_tokens")).as(what)
              .isEqualTo(full.usage().getInteger("prompt_tokens") + k);
          // The k words moved from the completion into the prompt: the total is the unbroken one's.
          assertThat(rest.usage().getInteger("total_tokens")).as(what)
              .isEqualTo(full.usage().getInteger("total_tokens"));
        }
      }
    }
    assertThat(texts).as("answers depend on the prompt").doesNotHaveDuplicates();
  }

  @ParameterizedTest
  @ValueSource(strings = {"instant", "faithful"})
  void completionContinuationsJoinIntoTheUnbrokenAnswer(String engine) {
    SimulatorVerticle sim = deploy(engine(engine));
    List<JsonObject> originals = List.of(
        new JsonObject().put("model", MODEL).put("prompt", "Write a haiku about autumn."),
        new JsonObject().put("model", MODEL).put("prompt", "Once upon a time").put("max_tokens", 40),
        new JsonObject().put("model", OTHER_MODEL).put("prompt", "Q: what is 2 + 2?\nA:").put("max_tokens", 9));
    for (JsonObject original : originals) {
      Answer full = completionStreamed(sim, original);
      assertThat(completionPlain(sim, original).text()).isEqualTo(full.text());
      int total = full.usage().getInteger("completion_tokens");
      int budget = original.getInteger("max_tokens", 16);
      List<Integer> cuts = new ArrayList<>(List.of(1, total / 2, total - 1));
      if ("stop".equals(full.finish())) {
        cuts.add(total);
      }
      for (int k : cuts) {
        String soFar = full.firstPieces(k);
        JsonObject continuation = original.copy().put("prompt", original.getString("prompt") + soFar)
            .put("max_tokens", budget - k);
        for (Answer rest : List.of(completionStreamed(sim, continuation), completionPlain(sim, continuation))) {
          String what = engine + " '" + original.getString("prompt") + "' cut after " + k;
          assertThat(soFar + rest.text()).as(what).isEqualTo(full.text());
          assertThat(rest.finish()).as(what).isEqualTo(full.finish());
          assertThat(rest.usage().getInteger("completion_tokens")).as(what).isEqualTo(total - k);
          assertThat(rest.usage().getInteger("prompt_tokens")).as(what)
              .isEqualTo(full.usage().getInteger("prompt_tokens") + k);
        }
      }
    }
  }

  @Test
  void anAssistantMessageAlreadyCompleteGetsNothingMore() {
    SimulatorVerticle sim = deploy(settings(new JsonObject().put("tokensPerAnswer", 5)));
    JsonObject original = chat(MODEL, "hello");
    String full = chatPlain(sim, original).text();
    Answer rest = chatStreamed(sim, chatContinuation(original, full + " and more words", 0));
    assertThat(rest.text()).isEmpty();
    assertThat(rest.finish()).isEqualTo("stop");
    assertThat(rest.usage().getInteger("completion_tokens")).isZero();
  }

  @Test
  void continuingIsRefusedLikeVllmDoes() {
    SimulatorVerticle sim = deploy(settings());
    JsonObject base = chat(MODEL, "hi");
    base.getJsonArray("messages").add(message("assistant", "The"));

    Reply both = post(sim, "/v1/chat/completions", base.copy().put("continue_final_message", true)
        .put("add_generation_prompt", true));
    assertThat(both.status()).isEqualTo(400);
    assertThat(both.json().getJsonObject("error").getString("message"))
        .isEqualTo("Cannot set both `continue_final_message` and `add_generation_prompt` to True.");
    assertThat(both.json().getJsonObject("error").getString("type")).isEqualTo("BadRequestError");

    // add_generation_prompt defaults to true, which the chat template refuses together with continuing.
    Reply alone = post(sim, "/v1/chat/completions", base.copy().put("continue_final_message", true));
    assertThat(alone.status()).isEqualTo(400);
    assertThat(alone.json().getJsonObject("error").getString("message"))
        .startsWith("continue_final_message and add_generation_prompt are not compatible.");

    Reply notAssistant = post(sim, "/v1/chat/completions", chat(MODEL, "hi")
        .put("continue_final_message", true).put("add_generation_prompt", false));
    assertThat(notAssistant.status()).isEqualTo(400);
    assertThat(notAssistant.json().getJsonObject("error").getString("message"))
        .contains("continue_final_message").contains("assistant");

    Reply wrongType = post(sim, "/v1/chat/completions", base.copy().put("continue_final_message", "yes"));
    assertThat(wrongType.status()).isEqualTo(400);

    // add_generation_prompt false alone is a plain request without the assistant header: 2 tokens fewer.
    int with = chatPlain(sim, chat(MODEL, "hi")).usage().getInteger("prompt_tokens");
    int without = chatPlain(sim, chat(MODEL, "hi").put("add_generation_prompt", false)).usage()
        .getInteger("prompt_tokens");
    assertThat(without).isEqualTo(with - 2);
    assertThat(post(sim, "/v1/chat/completions", base.copy().put("continue_final_message", true)
        .put("add_generation_prompt", false)).status()).isEqualTo(200);
  }

  @ParameterizedTest
  @ValueSource(strings = {"instant", "faithful"})
  void fiftySlowStreamsCutByAReplicaDeathResumeOnAnotherReplica(String engine) {
    // Slow tokens: 50 ms apart with either engine (5 s per answer), so every stream is cut mid-way.
    JsonObject slow = new JsonObject().put("engine", engine).put("tokensPerAnswer", 100)
        .put("interTokenMs", 50).put("stepBaseMs", 50);
    SimulatorVerticle victim = deploy(settings(slow));
    SimulatorVerticle survivor = deploy(settings(slow.copy().put("interTokenMs", 0).put("stepBaseMs", 1)));
    HttpClient streams = vertx.createHttpClient(new HttpClientOptions().setDefaultHost("127.0.0.1"),
        new PoolOptions().setHttp1MaxSize(64));
    List<Buffer> received = new ArrayList<>();
    List<Future<Void>> ended = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      Buffer buf = Buffer.buffer();
      received.add(buf);
      JsonObject body = chat(MODEL, "Tell story number " + i).put("stream", true);
      ended.add(onContext(() -> {
        Promise<Void> end = Promise.promise();
        streams.request(new RequestOptions().setMethod(HttpMethod.POST).setPort(victim.actualPort())
                .setURI("/v1/chat/completions"))
            .compose(req -> req.send(body.encode()))
            .onSuccess(resp -> {
              resp.handler(b -> {
                synchronized (buf) {
                  buf.appendBuffer(b);
                }
              });
              resp.endHandler(v -> end.tryComplete());
              resp.exceptionHandler(t -> end.tryComplete());
            })
            .onFailure(t -> end.tryComplete());
        return end.future();
      }));
    }
    awaitCondition("50 streams under way", () -> received.stream().allMatch(b -> {
      synchronized (b) {
        return b.toString().contains("\"delta\":{\"content\":");
      }
    }));
    assertThat(victim.running()).isEqualTo(50);
    vertx.undeploy(victim.deploymentID()).await();
    for (Future<Void> f : ended) {
      f.otherwiseEmpty().await();
    }
    for (int i = 0; i < 50; i++) {
      String raw;
      synchronized (received.get(i)) {
        raw = received.get(i).toString();
      }
      assertThat(raw).as("stream %d was cut", i).doesNotContain("[DONE]");
      // Only whole events reached the client; a torn last one is dropped, as a client would.
      StringBuilder soFar = new StringBuilder();
      int pieces = 0;
      for (String event : raw.substring(0, raw.lastIndexOf("\n\n") + 2).split("\n\n")) {
        JsonObject delta = new JsonObject(event.substring("data: ".length())).getJsonArray("choices")
            .getJsonObject(0).getJsonObject("delta");
        if (!delta.containsKey("role")) {
          soFar.append(delta.getString("content"));
          pieces++;
        }
      }
      assertThat(pieces).isBetween(1, 99);
      JsonObject original = chat(MODEL, "Tell story number " + i);
      String unbroken = chatPlain(survivor, original).text();
      Answer rest = chatStreamed(survivor, chatContinuation(original, soFar.toString(), pieces));
      assertThat(soFar + rest.text()).as("stream %d", i).isEqualTo(unbroken);
      assertThat(rest.usage().getInteger("completion_tokens")).isEqualTo(100 - pieces);
    }
    streams.close();
  }
}
