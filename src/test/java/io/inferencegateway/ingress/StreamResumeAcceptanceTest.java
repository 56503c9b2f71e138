package io.inferencegateway.ingress;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.simulator.SimulatorVerticle;
import io.inferencegateway.store.ModelRow;
import io.inferencegateway.support.GatewayHarness;
import io.inferencegateway.support.Http;
import io.inferencegateway.support.Poll;
import io.inferencegateway.support.SimulatorProcess;
import io.inferencegateway.support.TestServices;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 17: a stream broken after tokens reached the client is continued on another replica, and the client sees
 * one unbroken stream whose text is exactly the answer of an unbroken run (the simulator is deterministic and
 * continues an assistant message or a completion prompt the way vLLM does).
 */
class StreamResumeAcceptanceTest {

  static final int TOKENS = 100;
  static GatewayHarness gw;
  static GatewayHarness.Key key;
  static Vertx vertx;
  static Http http;
  static HttpClient streams;

  @BeforeAll
  static void start() {
    // health checks with time to spare: a simulator in a JVM of its own answers slowly while it warms up
    gw = GatewayHarness.embedded(c -> c.withUpstream(new GatewayConfig.Upstream(1000, 5000, 5000, 120_000, 1024))
        .withHealth(new GatewayConfig.Health(1000, 3000)));
    key = gw.key("resume", 1_000_000, null, null, null);
    vertx = Vertx.vertx();
    http = new Http(vertx);
    streams = vertx.createHttpClient(new io.vertx.core.http.HttpClientOptions(),
        new io.vertx.core.http.PoolOptions().setHttp1MaxSize(100));
  }

  @AfterAll
  static void stop() {
    streams.close().await();
    http.close();
    vertx.close().await();
    gw.close();
  }

  /** A client's stream through the gateway: its bytes as they come, and its end. */
  record ClientStream(Buffer bytes, Future<Integer> ended, String[] requestId) {
    String text() {
      synchronized (bytes) {
        return bytes.toString();
      }
    }
  }

  static ClientStream stream(String path, JsonObject body, Map<String, String> headers) {
    Buffer bytes = Buffer.buffer();
    String[] requestId = new String[1];
    Future<Integer> ended = http.onContext(() -> {
      Promise<Integer> end = Promise.promise();
      RequestOptions o = new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1")
          .setPort(gw.app.port()).setURI(path).putHeader("Authorization", "Bearer " + key.plaintext())
          .putHeader("Content-Type", "application/json");
      headers.forEach(o::putHeader);
      streams.request(o).compose(req -> req.send(body.encode())).onSuccess(resp -> {
        requestId[0] = resp.getHeader("x-request-id");
        resp.handler(b -> {
          synchronized (bytes) {
            bytes.appendBuffer(b);
          }
        });
        resp.endHandler(v -> end.tryComplete(resp.statusCode()));
        resp.exceptionHandler(end::tryFail);
      }).onFailure(end::tryFail);
      return end.future();
    });
    return new ClientStream(bytes, ended, requestId);
  }

  static JsonObject chat(String model, String prompt) {
    return new JsonObject().put("model", model).put("messages", new JsonArray()
        .add(new JsonObject().put("role", "user").put("content", prompt)));
  }

  /** What the client assembled from a stream, checked to be one well-formed stream. */
  record Assembled(String text, String finish, JsonObject usage, int roleDeltas, Set<String> ids, boolean done,
                   List<JsonObject> errors) {}

  static Assembled assemble(String raw, boolean chatStream) {
    StringBuilder text = new StringBuilder();
    String finish = null;
    JsonObject usage = null;
    int roles = 0;
    Set<String> ids = new HashSet<>();
    boolean done = false;
    List<JsonObject> errors = new ArrayList<>();
    for (String event : raw.split("\n\n")) {
      if (!event.startsWith("data: ")) {
        continue;
      }
      String data = event.substring(6);
      if (data.equals("[DONE]")) {
        done = true;
        continue;
      }
      JsonObject chunk = new JsonObject(data);
      if (chunk.containsKey("error")) {
        errors.add(chunk);
        continue;
      }
      ids.add(chunk.getString("id") + "/" + chunk.getValue("created") + "/" + chunk.getString("model"));
      JsonArray choices = chunk.getJsonArray("choices");
      if (chunk.getValue("usage") instanceof JsonObject u) {
        usage = u;
      }
      if (choices.isEmpty()) {
        continue;
      }
      JsonObject choice = choices.getJsonObject(0);
      if (choice.getString("finish_reason") != null) {
        assertThat(finish).as("one finish reason").isNull();
        finish = choice.getString("finish_reason");
      }
      if (chatStream) {
        JsonObject delta = choice.getJsonObject("delta");
        if (delta.containsKey("role")) {
          roles++;
        }
        if (delta.getString("content") != null) {
          text.append(delta.getString("content"));
        }
      } else if (choice.getString("text") != null) {
        text.append(choice.getString("text"));
      }
    }
    return new Assembled(text.toString(), finish, usage, roles, ids, done, errors);
  }

  /** The answer of an unbroken, non-streamed run of the same request, straight from a replica. */
  static JsonObject unbroken(int port, String path, JsonObject body) {
    Http.Response r = http.post("http://127.0.0.1:" + port + path, null, body);
    assertThat(r.status()).as(r.body().toString()).isEqualTo(200);
    return r.json();
  }

  static String unbrokenText(int port, JsonObject body) {
    return unbroken(port, "/v1/chat/completions", body).getJsonArray("choices").getJsonObject(0)
        .getJsonObject("message").getString("content");
  }

  static Row usageRow(String requestId) {
    return Poll.value("the usage row of " + requestId, Duration.ofSeconds(15), () -> {
      var rows = gw.app.services().database().pool().preparedQuery("SELECT * FROM metrics WHERE request_id = ?")
          .execute(io.vertx.sqlclient.Tuple.of(requestId)).await();
      return rows.size() == 1 ? rows.iterator().next() : null;
    }, java.util.Objects::nonNull);
  }

  SimulatorVerticle survivor(String model) {
    return gw.simulator(0, GatewayHarness.simSettings(model, new JsonObject().put("tokensPerAnswer", TOKENS)));
  }

  @Test
  void fiftyStreamsCutByAKilledReplicaEndAsTheUnbrokenAnswer() {
    String model = "test/resume-kill";
    ModelRow m = gw.model(model);
    try (SimulatorProcess victim = SimulatorProcess.start(TestServices.freePort(), "--models", model,
        "--tokens", Integer.toString(TOKENS), "--itl-ms", "40")) {
      long victimId = gw.replica(m, victim.url());
      List<ClientStream> clients = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        JsonObject body = chat(model, "Tell story number " + i).put("stream", true);
        if (i % 2 == 0) {
          body.put("stream_options", new JsonObject().put("include_usage", true));
        }
        clients.add(stream("/v1/chat/completions", body, Map.of()));
      }
      Poll.value("50 streams under way on the victim", Duration.ofSeconds(60),
          () -> clients.stream().filter(c -> c.text().split("\n\n").length > 3).count(), n -> n == 50);
      // only now do the other replicas join: every stream is on the victim when it dies
      SimulatorVerticle a = survivor(model);
      SimulatorVerticle b = survivor(model);
      long aId = gw.replica(m, "http://127.0.0.1:" + a.actualPort());
      long bId = gw.replica(m, "http://127.0.0.1:" + b.actualPort());
      victim.kill();
      for (ClientStream c : clients) {
        assertThat(c.ended().await()).isEqualTo(200);
      }
      int resumed = 0;
      for (int i = 0; i < 50; i++) {
        Assembled got = assemble(clients.get(i).text(), true);
        JsonObject original = chat(model, "Tell story number " + i);
        JsonObject full = unbroken(a.actualPort(), "/v1/chat/completions", original);
        String expected = full.getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content");
        assertThat(got.errors()).as("stream %d: no error event", i).isEmpty();
        assertThat(got.done()).as("stream %d ends with [DONE]", i).isTrue();
        assertThat(got.finish()).as("stream %d", i)
            .isEqualTo(full.getJsonArray("choices").getJsonObject(0).getString("finish_reason"));
        assertThat(got.roleDeltas()).as("stream %d: one role delta", i).isEqualTo(1);
        assertThat(got.ids()).as("stream %d: one id, created and model", i).hasSize(1);
        assertThat(got.text()).as("stream %d", i).isEqualTo(expected);
        if (i % 2 == 0) {
          JsonObject u = full.getJsonObject("usage");
          assertThat(got.usage()).as("stream %d: the usage covers the whole answer", i).isNotNull();
          assertThat(got.usage().getInteger("prompt_tokens")).isEqualTo(u.getInteger("prompt_tokens"));
          assertThat(got.usage().getInteger("completion_tokens")).isEqualTo(u.getInteger("completion_tokens"));
          assertThat(got.usage().getInteger("total_tokens")).isEqualTo(u.getInteger("total_tokens"));
        }
        Row row = usageRow(clients.get(i).requestId()[0]);
        assertThat(row.getInteger("status")).isEqualTo(200);
        assertThat(row.getInteger("resumes")).isEqualTo(1);
        assertThat(row.getString("replicas")).isIn(victimId + "," + aId, victimId + "," + bId);
        assertThat(row.getInteger("completion_tokens")).isEqualTo(full.getJsonObject("usage")
            .getInteger("completion_tokens"));
        resumed += row.getInteger("resumes");
      }
      System.out.println("[resume] streams resumed after kill -9: " + resumed + "/50");
      assertThat(gw.app.services().meters().registry().find("gateway_stream_resumes").tag("model", model)
          .counter().count()).isEqualTo(50.0);
      JsonObject summary = http.get(gw.baseUrl + "/api/v1/usage/resumed", "sk-admin-test").json();
      assertThat(summary.getLong("resumed_streams")).isGreaterThanOrEqualTo(50);
    }
  }

  /**
   * A replica that relays a real simulator's stream but closes the connection after a few events: chat and
   * completions, with and without the usage chunk; the header {@code x-gateway-resume: off} keeps the old ending.
   */
  @Test
  void aReplicaClosingAfterAFewEventsIsResumedForChatAndCompletions() {
    String model = "test/resume-fault";
    ModelRow m = gw.model(model);
    SimulatorVerticle backing = survivor(model);
    AtomicInteger cut = new AtomicInteger();
    HttpServer fault = faultReplica(backing.actualPort(), 6, cut);
    long faultId = gw.replica(m, "http://127.0.0.1:" + fault.actualPort());
    SimulatorVerticle good = survivor(model);
    long goodId = gw.replica(m, "http://127.0.0.1:" + good.actualPort());
    List<ClientStream> chats = new ArrayList<>();
    List<ClientStream> completions = new ArrayList<>();
    List<JsonObject> bodies = new ArrayList<>();
    List<JsonObject> completionBodies = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      JsonObject body = chat(model, "Question " + i).put("stream", true).put("max_tokens", 60 + i);
      if (i % 2 == 1) {
        body.put("stream_options", new JsonObject().put("include_usage", true));
      }
      bodies.add(body);
      completionBodies.add(new JsonObject().put("model", model).put("prompt", "Once upon a time " + i)
          .put("max_tokens", 40).put("stream", true));
    }
    // p2c spreads them; those on the fault replica are cut after six events and resumed on the good one
    for (int i = 0; i < 6; i++) {
      chats.add(stream("/v1/chat/completions", bodies.get(i), Map.of()));
      completions.add(stream("/v1/completions", completionBodies.get(i), Map.of()));
    }
    int resumed = 0;
    for (int i = 0; i < 6; i++) {
      assertThat(chats.get(i).ended().await()).isEqualTo(200);
      assertThat(completions.get(i).ended().await()).isEqualTo(200);
      JsonObject plain = bodies.get(i).copy();
      plain.remove("stream");
      plain.remove("stream_options");
      JsonObject full = unbroken(backing.actualPort(), "/v1/chat/completions", plain);
      Assembled got = assemble(chats.get(i).text(), true);
      assertThat(got.errors()).isEmpty();
      assertThat(got.done()).isTrue();
      assertThat(got.roleDeltas()).isEqualTo(1);
      assertThat(got.ids()).hasSize(1);
      assertThat(got.text()).isEqualTo(full.getJsonArray("choices").getJsonObject(0).getJsonObject("message")
          .getString("content"));
      assertThat(got.finish()).isEqualTo(full.getJsonArray("choices").getJsonObject(0).getString("finish_reason"));
      if (i % 2 == 1) {
        assertThat(got.usage().getInteger("total_tokens")).isEqualTo(full.getJsonObject("usage")
            .getInteger("total_tokens"));
        assertThat(got.usage().getInteger("completion_tokens")).isEqualTo(full.getJsonObject("usage")
            .getInteger("completion_tokens"));
      }
      JsonObject cplain = completionBodies.get(i).copy();
      cplain.remove("stream");
      JsonObject cfull = unbroken(backing.actualPort(), "/v1/completions", cplain);
      Assembled cgot = assemble(completions.get(i).text(), false);
      assertThat(cgot.errors()).isEmpty();
      assertThat(cgot.done()).isTrue();
      assertThat(cgot.ids()).hasSize(1);
      assertThat(cgot.text()).isEqualTo(cfull.getJsonArray("choices").getJsonObject(0).getString("text"));
      for (ClientStream c : List.of(chats.get(i), completions.get(i))) {
        Row row = usageRow(c.requestId()[0]);
        assertThat(row.getInteger("status")).isEqualTo(200);
        if (row.getInteger("resumes") > 0) {
          resumed++;
          assertThat(row.getString("replicas")).isEqualTo(faultId + "," + goodId);
        }
      }
    }
    assertThat(resumed).as("streams the fault replica cut were all resumed").isEqualTo(cut.get()).isPositive();

    assertThat(cut.get()).as("streams the fault replica cut").isPositive();
    fault.close().await();
  }

  /**
   * A replica that goes quiet mid-stream: after the idle timeout (5 s here) the stream is resumed elsewhere, and the
   * quiet replica gets no failure verdict (a timeout is not a failed replica, issue 14 §4).
   */
  @Test
  void aStreamThatGoesQuietIsResumedAfterTheIdleTimeout() {
    String model = "test/resume-idle";
    ModelRow m = gw.model(model);
    SimulatorVerticle backing = survivor(model);
    AtomicInteger cut = new AtomicInteger();
    HttpServer quiet = faultReplica(backing.actualPort(), 8, cut, false);
    long quietId = gw.replica(m, "http://127.0.0.1:" + quiet.actualPort());
    JsonObject body = chat(model, "a quiet story").put("stream", true);
    ClientStream c = stream("/v1/chat/completions", body, Map.of());
    Poll.until("the stream went quiet on its replica", Duration.ofSeconds(20), () -> cut.get() == 1);
    long goodId = gw.replica(m, "http://127.0.0.1:" + survivor(model).actualPort());
    assertThat(c.ended().await()).isEqualTo(200);
    Assembled got = assemble(c.text(), true);
    assertThat(got.errors()).isEmpty();
    assertThat(got.done()).isTrue();
    assertThat(got.text()).isEqualTo(unbrokenText(backing.actualPort(), chat(model, "a quiet story")));
    Row row = usageRow(c.requestId()[0]);
    assertThat(row.getInteger("resumes")).isEqualTo(1);
    assertThat(row.getString("replicas")).isEqualTo(quietId + "," + goodId);
    assertThat(gw.app.services().registry().replica(quietId).failures()).as("no verdict for a timeout").isZero();
    quiet.close().await();
  }

  @Test
  void theClientCanTurnResumingOff() {
    String model = "test/resume-off";
    ModelRow m = gw.model(model);
    SimulatorVerticle backing = survivor(model);
    AtomicInteger cut = new AtomicInteger();
    HttpServer fault = faultReplica(backing.actualPort(), 6, cut);
    gw.replica(m, "http://127.0.0.1:" + fault.actualPort());
    gw.replica(m, "http://127.0.0.1:" + survivor(model).actualPort());
    String off = null;
    for (int tries = 0; tries < 40 && cut.get() == 0; tries++) {
      ClientStream c = stream("/v1/chat/completions", chat(model, "no resume " + tries).put("stream", true),
          Map.of("x-gateway-resume", "off"));
      assertThat(c.ended().await()).isEqualTo(200);
      off = c.text();
    }
    assertThat(cut.get()).as("a stream landed on the fault replica").isEqualTo(1);
    Assembled notResumed = assemble(off, true);
    assertThat(notResumed.done()).isFalse();
    assertThat(notResumed.errors()).singleElement()
        .satisfies(e -> assertThat(e.getJsonObject("error").getString("code")).isEqualTo("stream_interrupted"));
    fault.close().await();
  }

  /** Relays a simulator's answer, but closes the connection after {@code events} events of a stream. */
  static HttpServer faultReplica(int backingPort, int events, AtomicInteger cut) {
    return faultReplica(backingPort, events, cut, true);
  }

  /** As above; with {@code close} false the replica goes quiet after those events, its connection left open. */
  static HttpServer faultReplica(int backingPort, int events, AtomicInteger cut, boolean close) {
    HttpClient client = vertx.createHttpClient();
    return vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      boolean inference = req.path().endsWith("completions");
      client.request(new RequestOptions().setMethod(req.method()).setHost("127.0.0.1").setPort(backingPort)
              .setURI(req.uri()).putHeader("Content-Type", "application/json"))
          .compose(r -> req.method() == HttpMethod.GET ? r.send() : r.send(body))
          .onSuccess(resp -> relay(req, resp, inference && body.toString().contains("\"stream\":true") ? events : -1,
              cut, close))
          .onFailure(err -> req.response().setStatusCode(502).end());
    })).listen(0, "127.0.0.1").await();
  }

  private static void relay(io.vertx.core.http.HttpServerRequest req, HttpClientResponse resp, int events,
                            AtomicInteger cut, boolean close) {
    var out = req.response().setStatusCode(resp.statusCode());
    resp.headers().forEach(h -> {
      if (!h.getKey().equalsIgnoreCase("content-length") && !h.getKey().equalsIgnoreCase("transfer-encoding")) {
        out.putHeader(h.getKey(), h.getValue());
      }
    });
    if (events < 0) {
      resp.body().onSuccess(out::end);
      return;
    }
    out.setChunked(true);
    StringBuilder pending = new StringBuilder();
    int[] sent = {0};
    resp.handler(b -> {
      if (sent[0] >= events) {
        return;
      }
      pending.append(b.toString());
      int end;
      while ((end = pending.indexOf("\n\n")) >= 0 && sent[0] < events) {
        out.write(pending.substring(0, end + 2));
        pending.delete(0, end + 2);
        if (++sent[0] == events) {
          cut.incrementAndGet();
          if (close) {
            req.connection().close();
          }
        }
      }
    });
    resp.endHandler(v -> {
      if (sent[0] < events) {
        out.end(pending.toString());
      }
    });
  }

  @Test
  void theOpenAiSdkStreamsThroughAKilledReplica() throws Exception {
    String model = "test/resume-sdk";
    ModelRow m = gw.model(model);
    try (SimulatorProcess victim = SimulatorProcess.start(TestServices.freePort(), "--models", model,
        "--tokens", Integer.toString(TOKENS), "--itl-ms", "40")) {
      gw.replica(m, victim.url());
      OpenAIClient openai = OpenAIOkHttpClient.builder().baseUrl(gw.baseUrl + "/v1").apiKey(key.plaintext())
          .maxRetries(0).timeout(Duration.ofSeconds(60)).build();
      int n = 8;
      ExecutorService pool = Executors.newFixedThreadPool(n);
      Map<Integer, StringBuilder> texts = new ConcurrentHashMap<>();
      List<String> finishes = new CopyOnWriteArrayList<>();
      List<java.util.concurrent.Future<?>> done = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        int k = i;
        texts.put(k, new StringBuilder());
        done.add(pool.submit(() -> {
          try (StreamResponse<ChatCompletionChunk> s = openai.chat().completions().createStreaming(
              ChatCompletionCreateParams.builder().model(model).addUserMessage("SDK story " + k).build())) {
            s.stream().forEach(chunk -> chunk.choices().forEach(c -> {
              c.delta().content().ifPresent(t -> {
                synchronized (texts.get(k)) {
                  texts.get(k).append(t);
                }
              });
              c.finishReason().ifPresent(f -> finishes.add(f.toString()));
            }));
          }
          return null;
        }));
      }
      Poll.until("the SDK streams are under way", Duration.ofSeconds(60), () -> texts.values().stream()
          .allMatch(t -> {
            synchronized (t) {
              return t.length() > 10;
            }
          }));
      SimulatorVerticle a = survivor(model);
      gw.replica(m, "http://127.0.0.1:" + a.actualPort());
      victim.kill();
      for (var f : done) {
        f.get(); // an SDK exception (an error event, a torn stream) fails the test here
      }
      pool.shutdown();
      for (int i = 0; i < n; i++) {
        assertThat(texts.get(i).toString()).isEqualTo(unbrokenText(a.actualPort(), chat(model, "SDK story " + i)));
      }
      assertThat(finishes).hasSize(n);
      openai.close();
    }
  }
}
