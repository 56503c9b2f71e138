package io.inferencegateway.simulator;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/** Deploys simulators in the test's Vertx and talks to them over real HTTP. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
abstract class SimulatorTestBase {

  static final String MODEL = "NousResearch/Meta-Llama-3.1-8B-Instruct";
  static final String OTHER_MODEL = "microsoft/Phi-3-medium-128k-instruct";

  Vertx vertx;
  Context context;
  HttpClient client;

  @BeforeEach
  void setUpClient(Vertx vertx) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.client = vertx.createHttpClient(new HttpClientOptions().setDefaultHost("127.0.0.1"),
        new PoolOptions().setHttp1MaxSize(32));
  }

  /**
   * Builds a client chain on a Vert.x context. Built from the test thread instead, a fast response can
   * complete before the next stage is attached, and its body is then delivered to no handler.
   */
  <T> Future<T> onContext(Supplier<Future<T>> chain) {
    Promise<T> result = Promise.promise();
    context.runOnContext(v -> chain.get().onComplete(result));
    return result.future();
  }

  SimulatorVerticle deploy(SimulatorSettings settings) {
    return deploy(0, settings);
  }

  SimulatorVerticle deploy(int port, SimulatorSettings settings) {
    SimulatorVerticle sim = new SimulatorVerticle(port, settings, "127.0.0.1");
    vertx.deployVerticle(sim).await();
    return sim;
  }

  static SimulatorSettings settings() {
    return SimulatorSettings.defaults(List.of(MODEL, OTHER_MODEL));
  }

  static SimulatorSettings settings(JsonObject patch) {
    return settings().merge(patch);
  }

  record Reply(int status, MultiMap headers, String body) {
    JsonObject json() {
      return new JsonObject(body);
    }
  }

  Future<Reply> send(int port, HttpMethod method, String path, String body) {
    return send(new RequestOptions().setMethod(method).setPort(port).setURI(path), body);
  }

  Future<Reply> send(RequestOptions options, String body) {
    return onContext(() -> client.request(options)
        .compose(req -> {
          if (body != null) {
            req.putHeader("content-type", "application/json");
          }
          return body == null ? req.send() : req.send(body);
        })
        .compose(resp -> resp.body().map(b -> new Reply(resp.statusCode(), resp.headers(), b.toString()))));
  }

  Reply get(SimulatorVerticle sim, String path) {
    return send(sim.actualPort(), HttpMethod.GET, path, null).await();
  }

  Reply post(SimulatorVerticle sim, String path, JsonObject body) {
    return send(sim.actualPort(), HttpMethod.POST, path, body.encode()).await();
  }

  Reply post(SimulatorVerticle sim, String path, String body) {
    return send(sim.actualPort(), HttpMethod.POST, path, body).await();
  }

  static JsonObject chat(String model, String... userContents) {
    JsonArray messages = new JsonArray();
    for (String c : userContents) {
      messages.add(new JsonObject().put("role", "user").put("content", c));
    }
    return new JsonObject().put("model", model).put("messages", messages);
  }

  /** The data lines of an SSE body, checking the framing on the way. */
  static List<String> sseData(String body) {
    assertThat(body).endsWith("\n\n");
    List<String> data = new ArrayList<>();
    for (String event : body.split("\n\n")) {
      if (event.isEmpty()) {
        continue;
      }
      assertThat(event).startsWith("data: ").doesNotContain("\n");
      data.add(event.substring("data: ".length()));
    }
    return data;
  }

  static void awaitCondition(String what, BooleanSupplier condition) {
    io.inferencegateway.support.Poll.until(what, java.time.Duration.ofSeconds(30), condition);
  }
}
