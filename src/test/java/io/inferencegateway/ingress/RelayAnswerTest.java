package io.inferencegateway.ingress;

import io.inferencegateway.routing.ModelRegistry;
import io.inferencegateway.routing.ReplicaRouter;
import io.inferencegateway.routing.RouteHints;
import io.inferencegateway.support.Fake;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** Stage "relay" between a scripted upstream answer and a recording client response (no server). */
class RelayAnswerTest {

  static final String CHUNK = "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"%s\"}}]}\n\n";
  static final String USAGE = "data: {\"id\":\"c1\",\"choices\":[],"
      + "\"usage\":{\"prompt_tokens\":9,\"total_tokens\":12,\"completion_tokens\":3}}\n\n";

  final AtomicLong nanos = new AtomicLong(1_000);
  final RelayAnswer stage = new RelayAnswer(false, 100, nanos::get, () -> 5);
  final ModelRegistry registry = Stages.registry(1, "m");

  /** What the client was sent. */
  static final class Client {
    final StringBuilder body = new StringBuilder();
    int status;
    boolean ended;
    boolean closed;
    final Fake<HttpServerResponse> response = Fake.of(HttpServerResponse.class)
        .on("write", args -> {
          body.append(args[0]);
          return null;
        })
        .on("end", args -> {
          if (args.length == 1) {
            body.append(args[0]);
          }
          ended = true;
          return null;
        })
        .on("closed", args -> closed)
        .on("ended", args -> ended);

    Client() {
      response.on("setStatusCode", args -> {
        status = (Integer) args[0];
        return response.get();
      });
    }
  }

  /** The replica's answer, fed by the test. */
  static final class Answer {
    Handler<Buffer> data;
    Handler<Throwable> error;
    Handler<Void> end;
    final Fake<HttpClientResponse> response;

    Answer(int status, String contentType, Buffer wholeBody) {
      response = Fake.of(HttpClientResponse.class)
          .returns("statusCode", status)
          .on("getHeader", args -> String.valueOf(args[0]).equalsIgnoreCase("content-type") ? contentType : null)
          .on("body", args -> Future.succeededFuture(wholeBody));
      response.on("handler", args -> {
        data = cast(args[0]);
        return response.get();
      }).on("exceptionHandler", args -> {
        error = cast(args[0]);
        return response.get();
      }).on("endHandler", args -> {
        end = cast(args[0]);
        return response.get();
      });
    }

    @SuppressWarnings("unchecked")
    static <T> T cast(Object o) {
      return (T) o;
    }
  }

  ProxyExchange exchange(Client client, Answer answer, boolean stream) {
    HttpServerRequest request = Fake.of(HttpServerRequest.class).returns("response", client.response.get()).get();
    ProxyExchange ex = new ProxyExchange(request, Operation.CHAT, 0);
    ex.parsed = new ParsedRequest(registry.model("m"), stream, false, Buffer.buffer(), RouteHints.NONE, null);
    ex.answer = answer.response.get();
    ex.lease = new ReplicaRouter(Stages.CONFIG.router()).choose(registry.model("m"), RouteHints.NONE).lease();
    return ex;
  }

  @Test
  void aJsonAnswerIsRelayedWithItsUsage() {
    Client client = new Client();
    String body = "{\"choices\":[{\"message\":{\"content\":\"hi\"}}],\"usage\":{\"prompt_tokens\":4,"
        + "\"completion_tokens\":2,\"total_tokens\":6}}";
    ProxyExchange ex = exchange(client, new Answer(200, "application/json", Buffer.buffer(body)), false);
    nanos.set(5_000);
    assertThat(stage.apply(ex).succeeded()).isTrue();
    assertThat(client.status).isEqualTo(200);
    assertThat(client.body.toString()).isEqualTo(body);
    assertThat(ex.status).isEqualTo(200);
    assertThat(ex.totalTokens).isEqualTo(6);
    assertThat(ex.ttftNanos).isEqualTo(5_000);
  }

  @Test
  void anUpstreamErrorAnswerIsRelayedAndRecordedWithItsText() {
    Client client = new Client();
    ProxyExchange ex = exchange(client, new Answer(400, "application/json", Buffer.buffer("{\"bad\":1}")), false);
    stage.apply(ex);
    assertThat(client.status).isEqualTo(400);
    assertThat(ex.error).isEqualTo("upstream HTTP 400: {\"bad\":1}");
  }

  @Test
  void aStreamIsRelayedAsItArrivesAndEndsWithItsUsage() {
    Client client = new Client();
    Answer answer = new Answer(200, "text/event-stream", null);
    ProxyExchange ex = exchange(client, answer, true);
    Future<Void> done = stage.apply(ex);
    answer.data.handle(Buffer.buffer(CHUNK.formatted("") + CHUNK.formatted("Hi")));
    assertThat(client.body.toString()).as("relayed before the stream ends").contains("Hi");
    answer.data.handle(Buffer.buffer(USAGE + "data: [DONE]\n\n"));
    assertThat(done.isComplete()).isFalse();
    answer.end.handle(null);
    assertThat(done.succeeded()).isTrue();
    assertThat(client.ended).isTrue();
    assertThat(client.body.toString()).doesNotContain("usage").endsWith("data: [DONE]\n\n");
    assertThat(ex.status).isEqualTo(200);
    assertThat(ex.completionTokens).isEqualTo(3);
  }

  @Test
  void aStreamBrokenMidWayEndsWithAnErrorEventAndCountsAgainstTheReplica() {
    Client client = new Client();
    Answer answer = new Answer(200, "text/event-stream", null);
    ProxyExchange ex = exchange(client, answer, true);
    Future<Void> done = stage.apply(ex);
    answer.data.handle(Buffer.buffer(CHUNK.formatted("") + CHUNK.formatted("Hi") + CHUNK.formatted(" there")));
    answer.error.handle(new IllegalStateException("Connection reset"));
    assertThat(done.succeeded()).isTrue();
    assertThat(client.body.toString()).endsWith("\"code\":\"stream_interrupted\"}}\n\n");
    assertThat(ex.status).isEqualTo(502);
    assertThat(ex.error).isEqualTo("stream interrupted: Connection reset");
    assertThat(ex.completionTokens).as("estimated from the events relayed").isEqualTo(2);
    assertThat(ex.lease.replica().failures()).isEqualTo(1);
  }

  @Test
  void aClientLeavingMidStreamFailsTheRelayWithItsUsageEstimated() {
    Client client = new Client();
    Answer answer = new Answer(200, "text/event-stream", null);
    ProxyExchange ex = exchange(client, answer, true);
    Future<Void> done = stage.apply(ex);
    answer.data.handle(Buffer.buffer(CHUNK.formatted("") + CHUNK.formatted("Hi")));
    ex.markClientGone();
    assertThat(done.cause()).isSameAs(IngressFailure.CLIENT_GONE);
    assertThat(ex.completionTokens).isEqualTo(1);
    assertThat(ex.lease.replica().failures()).as("a client leaving is not the replica's fault").isZero();
  }

  @Test
  void theUsageOfAnAnswerIsFoundWithoutParsingTheAnswer() {
    String answer = "{\"id\":\"c\",\"choices\":[{\"message\":{\"content\":\"say \\\"usage\\\": {} }\"}}],"
        + "\"usage\":{\"prompt_tokens\":9,\"total_tokens\":12,\"completion_tokens\":3,"
        + "\"prompt_tokens_details\":{\"cached_tokens\":4}},\"prompt_logprobs\":null}";
    var usage = RelayAnswer.usageObject(Buffer.buffer(answer));
    assertThat(usage.getInteger("completion_tokens")).isEqualTo(3);
    assertThat(usage.getJsonObject("prompt_tokens_details").getInteger("cached_tokens")).isEqualTo(4);
    assertThat(RelayAnswer.usageObject(Buffer.buffer("{\"choices\":[]}"))).isNull();
    assertThat(RelayAnswer.usageObject(Buffer.buffer("{\"usage\":null}"))).isNull();
  }

  @Test
  void theUsageReadByHandIsWhatJacksonReadsAndOnlyTheTopLevelOneCounts() {
    String[] usages = {
        "{\"prompt_tokens\":9,\"total_tokens\":12,\"completion_tokens\":3,\"prompt_tokens_details\":null}",
        "{ \"prompt_tokens\" : 0 , \"big\":12345678901234,\"neg\":-7,\"ok\":true,\"no\":false,\"d\":{ } }",
        "{\"prompt_tokens\":1.5,\"x\":[1],\"s\":\"a\\\"b\",\"e\":1e3,\"h\":99999999999999999999}",
        "{}",
    };
    for (String u : usages) {
      String answer = "{\"id\":\"c\",\"choices\":[{\"message\":{\"content\":\"x\"}}],\"usage\":" + u
          + ",\"prompt_logprobs\":null,\"kv\":{\"a\":[1,{\"b\":\"}\"}]}}\n";
      assertThat(RelayAnswer.usageObject(Buffer.buffer(answer))).as(u).isEqualTo(new JsonObject(u))
          .isEqualTo(new JsonObject(answer).getJsonObject("usage"));
    }
    String nested = "{\"choices\":[{\"message\":{\"usage\":{\"prompt_tokens\":1}}}],\"usage\":null}";
    assertThat(RelayAnswer.usageObject(Buffer.buffer(nested))).as("a nested usage is not the answer's").isNull();
    String nestedLast = "{\"usage\":{\"prompt_tokens\":2},\"choices\":[{\"usage\":{\"prompt_tokens\":1}}]}";
    assertThat(RelayAnswer.usageObject(Buffer.buffer(nestedLast))).as("the caller parses all then").isNull();
    assertThat(RelayAnswer.usageObject(Buffer.buffer("{\"a\":{\"usage\":{\"p\":1}},\"b\":1}"))).isNull();
  }
}
