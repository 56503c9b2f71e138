package io.inferencegateway.ingress;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** What a broken stream's continuation asks for, and how its events are rewritten into the original stream. */
class StreamResumeTest {

  static String event(JsonObject data) {
    return "data: " + data.encode() + "\n\n";
  }

  static JsonObject chunk(String id, long created, JsonObject delta, String finish) {
    return new JsonObject().put("id", id).put("object", "chat.completion.chunk").put("created", created)
        .put("model", "m").put("choices", new JsonArray().add(new JsonObject().put("index", 0).put("delta", delta)
            .put("finish_reason", finish)));
  }

  /** Feeds events through a relay with the resume tap; returns what the client got. */
  static String relay(StreamResume resume, boolean forwardUsage, String... events) {
    List<Buffer> out = new ArrayList<>();
    SseRelay relay = new SseRelay(forwardUsage, false, out::add, resume);
    relay.feed(Buffer.buffer(String.join("", events)));
    StringBuilder s = new StringBuilder();
    out.forEach(b -> s.append(b.toString()));
    return s.toString();
  }

  @Test
  void aChatStreamIsContinuedWithTheTextSoFarAndASmallerBudget() {
    StreamResume resume = new StreamResume(Operation.CHAT);
    String first = relay(resume, true,
        event(chunk("chatcmpl-1", 100, new JsonObject().put("role", "assistant").put("content", ""), null)),
        event(chunk("chatcmpl-1", 100, new JsonObject().put("content", "Once"), null)),
        event(chunk("chatcmpl-1", 100, new JsonObject().put("content", " upon"), null)));
    assertThat(first).as("the first leg goes through untouched").contains("\"content\":\" upon\"");
    assertThat(resume.whyNot(2)).isNull();
    assertThat(resume.tokens()).isEqualTo(2);

    JsonObject original = new JsonObject().put("model", "m").put("stream", true).put("max_tokens", 10)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi")));
    JsonObject continuation = new JsonObject(resume.continuation(original.toBuffer()));
    assertThat(continuation.getInteger("max_tokens")).isEqualTo(8);
    assertThat(continuation.getBoolean("continue_final_message")).isTrue();
    assertThat(continuation.getBoolean("add_generation_prompt")).isFalse();
    assertThat(continuation.getJsonArray("messages").getJsonObject(1))
        .isEqualTo(new JsonObject().put("role", "assistant").put("content", "Once upon"));

    resume.nextLeg();
    String second = relay(resume, true,
        event(chunk("chatcmpl-2", 200, new JsonObject().put("role", "assistant").put("content", ""), null)),
        event(chunk("chatcmpl-2", 200, new JsonObject().put("content", " a"), null)),
        event(chunk("chatcmpl-2", 200, new JsonObject().put("content", " time"), "stop")),
        event(new JsonObject().put("id", "chatcmpl-2").put("created", 200).put("model", "m")
            .put("choices", new JsonArray()).put("usage", new JsonObject().put("prompt_tokens", 12)
                .put("completion_tokens", 2).put("total_tokens", 14))),
        "data: [DONE]\n\n");
    assertThat(second).doesNotContain("role").doesNotContain("chatcmpl-2").doesNotContain("\"created\":200")
        .contains("\"content\":\" a\"").endsWith("data: [DONE]\n\n");
    JsonObject usage = null;
    for (String e : second.split("\n\n")) {
      if (e.contains("usage")) {
        usage = new JsonObject(e.substring(6)).getJsonObject("usage");
      }
    }
    assertThat(usage).as("the original prompt and every leg's completion tokens")
        .isEqualTo(new JsonObject().put("prompt_tokens", 10).put("completion_tokens", 4).put("total_tokens", 14));
    assertThat(resume.resumes()).isEqualTo(1);
    assertThat(resume.finished()).isTrue();
  }

  @Test
  void completionsContinueThePromptWithVllmsDefaultBudget() {
    StreamResume resume = new StreamResume(Operation.COMPLETIONS);
    relay(resume, false, event(new JsonObject().put("id", "cmpl-1").put("created", 1).put("model", "m")
        .put("choices", new JsonArray().add(new JsonObject().put("index", 0).put("text", " the")
            .put("finish_reason", (String) null)))));
    JsonObject continuation = new JsonObject(resume.continuation(new JsonObject().put("model", "m")
        .put("prompt", "Say").toBuffer()));
    assertThat(continuation.getString("prompt")).isEqualTo("Say the");
    assertThat(continuation.getInteger("max_tokens")).isEqualTo(15);
  }

  @Test
  void whatCannotBeResumed() {
    JsonObject chat = new JsonObject().put("messages", new JsonArray());
    assertThat(StreamResume.resumable(Operation.CHAT, chat)).isTrue();
    assertThat(StreamResume.resumable(Operation.CHAT, chat.copy().put("n", 2))).isFalse();
    assertThat(StreamResume.resumable(Operation.CHAT, chat.copy().put("logprobs", true))).isFalse();
    assertThat(StreamResume.resumable(Operation.CHAT, chat.copy().put("logprobs", false))).isTrue();
    assertThat(StreamResume.resumable(Operation.CHAT, chat.copy().put("top_logprobs", 2))).isFalse();
    assertThat(StreamResume.resumable(Operation.COMPLETIONS, new JsonObject().put("prompt", "x").put("echo", true)))
        .isFalse();
    assertThat(StreamResume.resumable(Operation.COMPLETIONS, new JsonObject().put("prompt", "x").put("best_of", 3)))
        .isFalse();
    assertThat(StreamResume.resumable(Operation.COMPLETIONS, new JsonObject().put("prompt", new JsonArray())))
        .isFalse();
    assertThat(StreamResume.resumable(Operation.EMBEDDINGS, new JsonObject().put("input", "x"))).isFalse();

    StreamResume tools = new StreamResume(Operation.CHAT);
    relay(tools, false, event(chunk("c", 1, new JsonObject().put("tool_calls", new JsonArray()
        .add(new JsonObject().put("index", 0))), null)));
    assertThat(tools.whyNot(2)).isEqualTo("tool calls relayed");

    StreamResume spent = new StreamResume(Operation.CHAT);
    relay(spent, false, event(chunk("c", 1, new JsonObject().put("content", "a"), null)),
        event(chunk("c", 1, new JsonObject().put("content", "b"), null)));
    assertThat(spent.continuation(new JsonObject().put("max_tokens", 2).put("messages", new JsonArray()).toBuffer()))
        .as("the budget is spent").isNull();

    StreamResume twice = new StreamResume(Operation.CHAT);
    twice.nextLeg();
    assertThat(twice.whyNot(2)).as("one resume so far").isNull();
    twice.nextLeg();
    assertThat(twice.whyNot(2)).isEqualTo("resumed 2 times already");
  }

  @Test
  void anErrorEventInTheMiddleIsHeldBackForTheContinuation() {
    StreamResume resume = new StreamResume(Operation.CHAT);
    String got = relay(resume, false,
        event(chunk("c", 1, new JsonObject().put("role", "assistant").put("content", ""), null)),
        event(chunk("c", 1, new JsonObject().put("content", "Hi"), null)),
        event(new JsonObject().put("error", new JsonObject().put("message", "engine dead").put("code", 500))),
        "data: [DONE]\n\n");
    assertThat(got).contains("Hi").doesNotContain("engine dead").doesNotContain("[DONE]");
    assertThat(resume.upstreamError()).isEqualTo("engine dead");
    resume.nextLeg();
    assertThat(resume.upstreamError()).isNull();
  }

  @Test
  void tokenEventsReadFromTheirBytesAgreeWithTheParser() {
    StreamResume resume = new StreamResume(Operation.CHAT);
    JsonObject plain = chunk("c", 1, new JsonObject().put("content", " plain é"), null);
    plain.getJsonArray("choices").getJsonObject(0).putNull("logprobs");
    relay(resume, false,
        event(chunk("c", 1, new JsonObject().put("role", "assistant").put("content", ""), null)),
        event(plain),
        event(chunk("c", 1, new JsonObject().put("content", " said \"hi\"\n"), null)),
        event(chunk("c", 1, new JsonObject().putNull("content"), null)),
        event(chunk("c", 1, new JsonObject().put("content", "!"), "stop")));
    assertThat(resume.text()).isEqualTo(" plain é said \"hi\"\n!");
    assertThat(resume.tokens()).isEqualTo(3);
    assertThat(resume.finished()).isTrue();
    assertThat(resume.whyNot(2)).isNull();

    StreamResume withLogprobs = new StreamResume(Operation.CHAT);
    JsonObject scored = chunk("c", 1, new JsonObject().put("content", "x"), null);
    scored.getJsonArray("choices").getJsonObject(0).put("logprobs", new JsonObject().put("content", new JsonArray()));
    relay(withLogprobs, false, event(chunk("c", 1, new JsonObject().put("content", "a"), null)), event(scored));
    assertThat(withLogprobs.whyNot(2)).isEqualTo("log probabilities relayed");
  }

  @Test
  void eventsSplitAcrossReadsAndMultiByteTextSplitAcrossThemKeepTheText() {
    StreamResume resume = new StreamResume(Operation.CHAT);
    String all = String.join("",
        event(chunk("c", 1, new JsonObject().put("role", "assistant").put("content", ""), null)),
        event(chunk("c", 1, new JsonObject().put("content", "日本"), null)),
        event(chunk("c", 1, new JsonObject().put("content", " café \\ \"q\""), null)),
        event(chunk("c", 1, new JsonObject().put("content", "😀"), null)),
        event(chunk("c", 1, new JsonObject().put("content", "."), "length")),
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[],"
            + "\"usage\":{\"prompt_tokens\":3,\"total_tokens\":7,\"completion_tokens\":4}}\n\n",
        "data: [DONE]\n\n");
    byte[] bytes = all.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    List<Buffer> out = new ArrayList<>();
    SseRelay relay = new SseRelay(true, false, out::add, resume);
    for (int i = 0; i < bytes.length; i += 3) { // three bytes a read: keys, escapes and characters cut everywhere
      relay.feed(Buffer.buffer(java.util.Arrays.copyOfRange(bytes, i, Math.min(bytes.length, i + 3))));
    }
    Buffer sent = Buffer.buffer();
    out.forEach(sent::appendBuffer);
    assertThat(sent.toString()).as("relayed unchanged").isEqualTo(all);
    assertThat(resume.text()).isEqualTo("日本 café \\ \"q\"😀.");
    assertThat(resume.tokens()).as("the usage chunk is no token").isEqualTo(4);
    assertThat(resume.finished()).isTrue();
    assertThat(relay.usage().getInteger("completion_tokens")).isEqualTo(4);

    JsonObject original = new JsonObject().put("model", "m").put("stream", true)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi")));
    JsonObject continuation = new JsonObject(resume.continuation(original.toBuffer()));
    assertThat(continuation.getJsonArray("messages").getJsonObject(1).getString("content"))
        .as("the continuation carries the text decoded once from its bytes").isEqualTo("日本 café \\ \"q\"😀.");
  }

  @Test
  void aTextKeyOrErrorInsideValuesDoesNotFoolTheByteScan() {
    StreamResume resume = new StreamResume(Operation.COMPLETIONS);
    JsonObject tricky = new JsonObject().put("id", "c").put("object", "text_completion").put("created", 1)
        .put("model", "\"text\":\"no\"").put("choices", new JsonArray().add(new JsonObject().put("index", 0)
            .put("text", "error").put("logprobs", (Object) null).put("finish_reason", (Object) null)));
    JsonObject plain = tricky.copy().put("model", "m");
    plain.getJsonArray("choices").getJsonObject(0).put("text", " \"error\" text:");
    relay(resume, false, event(plain), event(tricky), event(plain));
    assertThat(resume.text()).isEqualTo(" \"error\" text:error \"error\" text:");
    assertThat(resume.tokens()).isEqualTo(3);
    assertThat(resume.finished()).isFalse();

    StreamResume tools = new StreamResume(Operation.CHAT);
    relay(tools, false, event(chunk("c", 1, new JsonObject().put("content", "a"), null)),
        event(chunk("c", 1, new JsonObject().put("tool_calls", new JsonArray().add(new JsonObject().put("id", "t"))),
            null)));
    assertThat(tools.whyNot(2)).isEqualTo("tool calls relayed");
  }
}
