package io.inferencegateway.ingress;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The SSE relay without a network: event framing across reads, usage capture, and hiding the usage chunk. */
class SseRelayTest {

  static final String CHUNK = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
      + "\"delta\":{\"content\":\"%s\"},\"finish_reason\":null}]}\n\n";
  static final String USAGE = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[],"
      + "\"usage\":{\"prompt_tokens\":9,\"total_tokens\":12,\"completion_tokens\":3}}\n\n";
  static final String DONE = "data: [DONE]\n\n";

  static String stream() {
    return CHUNK.formatted("") + CHUNK.formatted("Hello") + CHUNK.formatted(" you") + CHUNK.formatted(" there")
        + USAGE + DONE;
  }

  @Test
  void wholeStreamInOneReadIsForwardedWithoutTheUsageChunk() {
    List<Buffer> out = new ArrayList<>();
    SseRelay relay = new SseRelay(false, false, out::add);
    relay.feed(Buffer.buffer(stream()));
    String sent = String.join("", out.stream().map(Buffer::toString).toList());
    assertThat(sent).isEqualTo(stream().replace(USAGE, ""));
    assertThat(out).as("one write per network read, even around the hidden chunk").hasSize(1);
    assertThat(relay.usage().getInteger("completion_tokens")).isEqualTo(3);
    assertThat(relay.sawDone()).isTrue();
    assertThat(relay.choiceEvents()).isEqualTo(4);
  }

  @Test
  void clientThatAskedForUsageGetsEveryByte() {
    StringBuilder sent = new StringBuilder();
    SseRelay relay = new SseRelay(true, false, b -> sent.append(b));
    relay.feed(Buffer.buffer(stream()));
    assertThat(sent.toString()).isEqualTo(stream());
  }

  @Test
  void eventsSplitAcrossReadsAtEveryPossiblePointAreReassembled() {
    String s = stream();
    for (int cut = 1; cut < s.length() - 1; cut += 7) {
      for (int cut2 = cut + 1; cut2 < s.length(); cut2 += 53) {
        StringBuilder sent = new StringBuilder();
        SseRelay relay = new SseRelay(false, true, b -> sent.append(b));
        relay.feed(Buffer.buffer(s.substring(0, cut)));
        relay.feed(Buffer.buffer(s.substring(cut, cut2)));
        relay.feed(Buffer.buffer(s.substring(cut2)));
        relay.flushRemainder();
        assertThat(sent.toString()).as("cut at %d and %d", cut, cut2).isEqualTo(s.replace(USAGE, ""));
        assertThat(relay.usage()).isNotNull();
        assertThat(relay.content()).isEqualTo("Hello you there");
      }
    }
  }

  @Test
  void usageIsTakenFromTheChunkWithEmptyChoicesNotFromTokenChunks() {
    // continuous usage stats put a running usage on every token chunk; the final chunk (empty choices, spaced here
    // as some servers write it) carries the total
    String running = "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}],"
        + "\"usage\":{\"prompt_tokens\":9,\"total_tokens\":10,\"completion_tokens\":1}}\n\n";
    String last = "data: {\"id\":\"c1\",\"choices\": [ ],\"usage\": {\"prompt_tokens\":9,\"total_tokens\":11,"
        + "\"completion_tokens\":2}}\n\n";
    StringBuilder sent = new StringBuilder();
    SseRelay relay = new SseRelay(false, false, b -> sent.append(b));
    relay.feed(Buffer.buffer(running + running));
    assertThat(relay.usage()).isNull();
    relay.feed(Buffer.buffer(last + DONE));
    assertThat(relay.usage().getInteger("completion_tokens")).isEqualTo(2);
    assertThat(sent.toString()).isEqualTo(running + running + DONE); // the usage chunk hidden, token chunks not
    assertThat(relay.choiceEvents()).isEqualTo(2);
  }

  @Test
  void anEventsDataLinesAreReadAsSseDefinesThem() {
    assertThat(data("data: {\"a\":1}\n\n").getInteger("a")).isEqualTo(1);
    assertThat(data("data:{\"a\":2}\r\n\r\n").getInteger("a")).isEqualTo(2); // no space, CRLF
    assertThat(data(": a comment\nevent: message\nid: 7\ndata: {\"a\":3}\n\n").getInteger("a")).isEqualTo(3);
    // several data lines are one value joined by newlines
    var joined = data("data: {\"a\":\ndata: 4, \"b\": \"x\"}\n\n");
    assertThat(joined.getInteger("a")).isEqualTo(4);
    assertThat(joined.getString("b")).isEqualTo("x");
    assertThat(data("data: [DONE]\n\n")).isNull();
    assertThat(data("data: {not json\n\n")).isNull();
    assertThat(data("event: ping\n\n")).isNull();
    // an event in the middle of a read: only its own bytes count
    String two = "data: {\"a\":5}\n\ndata: {\"a\":6}\n\n";
    int second = two.indexOf("data", 1);
    assertThat(SseRelay.parseData(Buffer.buffer(two), second, two.length()).getInteger("a")).isEqualTo(6);
  }

  private static io.vertx.core.json.JsonObject data(String event) {
    return SseRelay.parseData(Buffer.buffer(event), 0, event.length());
  }

  @Test
  void completeEventsAreForwardedBeforeTheStreamEnds() {
    List<Buffer> out = new ArrayList<>();
    SseRelay relay = new SseRelay(false, false, out::add);
    String first = CHUNK.formatted("Hi");
    relay.feed(Buffer.buffer(first + first.substring(0, 20)));
    assertThat(out).hasSize(1);
    assertThat(out.get(0).toString()).isEqualTo(first);
    assertThat(relay.sawDone()).isFalse();
    assertThat(relay.usage()).isNull();
  }

  @Test
  void crlfFramingAndUpstreamErrorEventsAreUnderstood() {
    StringBuilder sent = new StringBuilder();
    SseRelay relay = new SseRelay(false, false, b -> sent.append(b));
    String error = "data: {\"error\":{\"message\":\"engine died\",\"type\":\"InternalServerError\",\"code\":500}}\r\n\r\n";
    relay.feed(Buffer.buffer(CHUNK.formatted("a").replace("\n\n", "\r\n\r\n") + error));
    assertThat(sent.toString()).endsWith(error);
    assertThat(relay.upstreamError()).isEqualTo("engine died");
  }
}
