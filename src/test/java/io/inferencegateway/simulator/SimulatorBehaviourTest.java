package io.inferencegateway.simulator;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/** Latency, scheduling, faults, cancellation, control endpoints and replica restarts. */
class SimulatorBehaviourTest extends SimulatorTestBase {

  private static double metric(String text, String name, String model) {
    String prefix = name + "{model_name=\"" + model + "\"} ";
    for (String line : text.split("\n")) {
      if (line.startsWith(prefix)) {
        return Double.parseDouble(line.substring(prefix.length()));
      }
    }
    throw new AssertionError("no " + prefix + " in\n" + text);
  }

  @Test
  void metricsExposeVllmSeriesAndRunningReflectsInFlightRequests() {
    SimulatorVerticle sim = deploy(settings(new JsonObject().put("timeToFirstTokenMs", 1500).put("maxNumSeqs", 4)));
    Reply idle = get(sim, "/metrics");
    assertThat(idle.status()).isEqualTo(200);
    assertThat(idle.headers().get("content-type")).startsWith("text/plain");
    for (String name : List.of("vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc")) {
      assertThat(idle.body()).contains("# HELP " + name + " ").contains("# TYPE " + name + " gauge");
      assertThat(metric(idle.body(), name, MODEL)).isZero();
    }
    assertThat(idle.body()).contains("# TYPE vllm:prompt_tokens_total counter")
        .contains("# TYPE vllm:generation_tokens_total counter");

    List<Future<Reply>> inFlight = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      inFlight.add(send(sim.actualPort(), HttpMethod.POST, "/v1/chat/completions", chat(MODEL, "hi").encode()));
    }
    awaitCondition("two running requests", () -> sim.running() == 2);
    String busy = get(sim, "/metrics").body();
    assertThat(metric(busy, "vllm:num_requests_running", MODEL)).isEqualTo(2.0);
    assertThat(metric(busy, "vllm:num_requests_running", OTHER_MODEL)).isZero();
    assertThat(metric(busy, "vllm:kv_cache_usage_perc", MODEL)).isEqualTo(0.5);
    assertThat(get(sim, "/sim/stats").json().getInteger("running")).isEqualTo(2);

    for (Future<Reply> f : inFlight) {
      assertThat(f.await().status()).isEqualTo(200);
    }
    awaitCondition("requests finished", () -> sim.running() == 0);
    String after = get(sim, "/metrics").body();
    assertThat(metric(after, "vllm:prompt_tokens_total", MODEL)).isEqualTo(14.0);
    assertThat(metric(after, "vllm:generation_tokens_total", MODEL)).isEqualTo(40.0);
  }

  @Test
  void requestsBeyondMaxNumSeqsWaitInFifoOrder() {
    SimulatorVerticle sim = deploy(settings(new JsonObject().put("timeToFirstTokenMs", 2000).put("maxNumSeqs", 1)));
    List<Future<Reply>> replies = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      replies.add(send(sim.actualPort(), HttpMethod.POST, "/v1/chat/completions", chat(MODEL, "hi").encode()));
    }
    awaitCondition("one running, two waiting", () -> sim.running() == 1 && sim.waiting() == 2);
    assertThat(metric(get(sim, "/metrics").body(), "vllm:num_requests_waiting", MODEL)).isEqualTo(2.0);
    assertThat(metric(get(sim, "/metrics").body(), "vllm:kv_cache_usage_perc", MODEL)).isEqualTo(1.0);
    for (Future<Reply> f : replies) {
      assertThat(f.await().status()).isEqualTo(200);
    }
    // the slot is released just after the last byte is written: give it that moment
    awaitCondition("all slots free", () -> sim.waiting() == 0 && sim.running() == 0);
  }

  @Test
  void errorAndUnavailableRates() {
    SimulatorVerticle sim = deploy(settings(new JsonObject().put("errorRate", 1.0)));
    Reply error = post(sim, "/v1/chat/completions", chat(MODEL, "hi"));
    assertThat(error.status()).isEqualTo(500);
    JsonObject e = error.json().getJsonObject("error");
    assertThat(e.getString("type")).isEqualTo("InternalServerError");
    assertThat(e.getInteger("code")).isEqualTo(500);
    assertThat(e.getString("message")).isNotBlank();
    assertThat(post(sim, "/v1/embeddings", new JsonObject().put("model", MODEL).put("input", "x")).status())
        .isEqualTo(500);
    // Control and discovery paths are not faulted.
    assertThat(get(sim, "/v1/models").status()).isEqualTo(200);

    sim.updateSettings(sim.settings().merge(new JsonObject().put("errorRate", 0).put("unavailableRate", 1.0)));
    Reply unavailable = post(sim, "/v1/completions", new JsonObject().put("model", MODEL).put("prompt", "x"));
    assertThat(unavailable.status()).isEqualTo(503);
    assertThat(unavailable.json().getJsonObject("error").getInteger("code")).isEqualTo(503);
    assertThat(sim.stats().faults()).containsEntry("error", 2L).containsEntry("unavailable", 1L);
  }

  @Test
  void faultDrawsAreReproducibleForASeed() {
    SimulatorVerticle sim = deploy(settings(new JsonObject().put("errorRate", 0.5).put("seed", 7)));
    List<Integer> first = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      first.add(post(sim, "/v1/chat/completions", chat(MODEL, "hi")).status());
    }
    assertThat(first).contains(200, 500);
    sim.updateSettings(sim.settings()); // reseeds
    List<Integer> second = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      second.add(post(sim, "/v1/chat/completions", chat(MODEL, "hi")).status());
    }
    assertThat(second).isEqualTo(first);
  }

  @Test
  void hangNeverAnswers() {
    SimulatorVerticle sim = deploy(settings(new JsonObject().put("hangRate", 1.0)));
    Throwable failure = catchThrowable(() -> send(new RequestOptions().setMethod(HttpMethod.POST)
        .setPort(sim.actualPort()).setURI("/v1/chat/completions").setIdleTimeout(800), chat(MODEL, "hi").encode())
        .await(60, TimeUnit.SECONDS));
    // Failed by the client's own idle timeout, well before the test's 60 s await would give up.
    assertThat(failure).isNotNull().hasMessageContaining("800ms");
    assertThat(sim.stats().faults()).containsEntry("hang", 1L);
    // The client gave up and closed the connection: that is a cancellation.
    awaitCondition("hung request cancelled", () -> sim.cancelled() == 1);
    assertThat(sim.completed()).isZero();
  }

  /** Reads a stream chunk by chunk; completes with what arrived, failed or not. */
  private record Streamed(String data, boolean ended, Throwable failure) {
  }

  private Streamed stream(SimulatorVerticle sim, JsonObject body) {
    Buffer received = Buffer.buffer();
    return onContext(() -> {
      Promise<Streamed> done = Promise.promise();
      client.request(new RequestOptions().setMethod(HttpMethod.POST).setPort(sim.actualPort())
              .setURI("/v1/chat/completions").setIdleTimeout(30_000))
          .compose(req -> req.send(body.encode()))
          .onSuccess(resp -> {
            resp.handler(received::appendBuffer);
            resp.exceptionHandler(t -> done.tryComplete(new Streamed(received.toString(), false, t)));
            resp.endHandler(v -> done.tryComplete(new Streamed(received.toString(), true, null)));
          })
          .onFailure(t -> done.tryComplete(new Streamed(received.toString(), false, t)));
      return done.future();
    }).await();
  }

  @Test
  void dropMidStreamClosesTheConnectionBeforeDone() {
    SimulatorVerticle sim = deploy(settings(new JsonObject().put("dropMidStreamRate", 1.0)));
    for (long itl : new long[] {0, 5}) {
      sim.updateSettings(sim.settings().merge(new JsonObject().put("interTokenMs", itl)));
      Streamed s = stream(sim, chat(MODEL, "hi").put("stream", true));
      assertThat(s.ended()).as("stream ended normally with itl %d", itl).isFalse();
      assertThat(s.data()).doesNotContain("[DONE]").doesNotContain("finish_reason\":\"stop");
      long tokens = s.data().lines().filter(l -> l.contains("\"delta\":{\"content\":")).count();
      assertThat(tokens).isEqualTo(10);
    }
    assertThat(sim.stats().faults()).containsEntry("drop", 2L);
    awaitCondition("slots released", () -> sim.running() == 0);
    // Non-streamed answers are not affected by the drop fault.
    assertThat(post(sim, "/v1/chat/completions", chat(MODEL, "hi")).status()).isEqualTo(200);
  }

  @Test
  void clientCancelMidStreamIsCounted() {
    SimulatorVerticle sim = deploy(settings(new JsonObject().put("interTokenMs", 100).put("tokensPerAnswer", 50)));
    onContext(() -> {
      Promise<Void> firstChunk = Promise.promise();
      client.request(new RequestOptions().setMethod(HttpMethod.POST).setPort(sim.actualPort())
              .setURI("/v1/chat/completions"))
          .compose(req -> req.send(chat(MODEL, "hi").put("stream", true).encode()))
          .onSuccess(resp -> resp.handler(b -> {
            if (firstChunk.tryComplete()) {
              resp.request().connection().close();
            }
          }));
      return firstChunk.future();
    }).await();
    awaitCondition("cancel counted", () -> sim.cancelled() == 1);
    awaitCondition("slot released", () -> sim.running() == 0);
    JsonObject stats = get(sim, "/sim/stats").json();
    assertThat(stats.getLong("cancelled")).isEqualTo(1);
    assertThat(stats.getLong("completed")).isZero();
    assertThat(stats.getLong("requests")).isEqualTo(1);
    assertThat(stats.getJsonObject("byPath").getLong("/v1/chat/completions")).isEqualTo(1);
  }

  @Test
  void cancelWhileWaitingLeavesTheQueue() {
    SimulatorVerticle sim = deploy(settings(new JsonObject().put("timeToFirstTokenMs", 1000).put("maxNumSeqs", 1)));
    Future<Reply> first = send(sim.actualPort(), HttpMethod.POST, "/v1/chat/completions", chat(MODEL, "hi").encode());
    awaitCondition("first running", () -> sim.running() == 1);
    send(new RequestOptions().setMethod(HttpMethod.POST).setPort(sim.actualPort())
        .setURI("/v1/chat/completions").setIdleTimeout(200), chat(MODEL, "hi").encode());
    awaitCondition("second cancelled while waiting", () -> sim.cancelled() == 1 && sim.waiting() == 0);
    assertThat(first.await().status()).isEqualTo(200);
    // the simulator frees the slot just after writing the answer, so the client can have it a moment earlier
    awaitCondition("slot released", () -> sim.running() == 0);
  }

  @Test
  void slowStartDelaysTheHeaders() {
    SimulatorVerticle sim = deploy(settings(new JsonObject().put("slowStartMs", 300)));
    long start = System.nanoTime();
    assertThat(post(sim, "/v1/chat/completions", chat(MODEL, "hi")).status()).isEqualTo(200);
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isGreaterThanOrEqualTo(300);
  }

  @Test
  void settingsAndStatsControlEndpoints() {
    SimulatorVerticle sim = deploy(settings());
    Reply current = get(sim, "/sim/settings");
    assertThat(current.status()).isEqualTo(200);
    assertThat(current.json()).isEqualTo(settings().toJson());

    Reply patched = post(sim, "/sim/settings", new JsonObject().put("tokensPerAnswer", 3).put("healthy", false));
    assertThat(patched.status()).isEqualTo(200);
    assertThat(patched.json().getInteger("tokensPerAnswer")).isEqualTo(3);
    assertThat(sim.settings().tokensPerAnswer()).isEqualTo(3);
    assertThat(post(sim, "/v1/chat/completions", chat(MODEL, "hi")).json().getJsonObject("usage")
        .getInteger("completion_tokens")).isEqualTo(3);
    assertThat(get(sim, "/health").status()).isEqualTo(503);

    Reply badKey = post(sim, "/sim/settings", new JsonObject().put("tokenz", 3));
    assertThat(badKey.status()).isEqualTo(400);
    assertThat(badKey.json().getJsonObject("error").getString("message")).contains("tokenz");
    Reply badValue = post(sim, "/sim/settings", new JsonObject().put("hangRate", -1));
    assertThat(badValue.status()).isEqualTo(400);
    assertThat(post(sim, "/sim/settings", "not json").status()).isEqualTo(400);
    assertThat(sim.settings().tokensPerAnswer()).isEqualTo(3);

    JsonObject stats = get(sim, "/sim/stats").json();
    assertThat(stats.fieldNames()).contains("requests", "completed", "cancelled", "running", "waiting", "byPath");
    // Control calls are not counted; the chat call and the health probe are.
    assertThat(stats.getLong("requests")).isEqualTo(2);
    assertThat(stats.getJsonObject("byPath").getLong("/health")).isEqualTo(1);
    JsonObject reset = post(sim, "/sim/stats/reset", new JsonObject()).json();
    assertThat(reset.getLong("requests")).isZero();
    assertThat(reset.getJsonObject("byPath")).isEmpty();
  }

  @Test
  void replicasRunSideBySideAndOneCanBeRestartedOnItsPort() {
    List<SimulatorVerticle> replicas = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      replicas.add(deploy(settings()));
    }
    assertThat(replicas.stream().map(SimulatorVerticle::actualPort).distinct()).hasSize(3);
    for (SimulatorVerticle r : replicas) {
      assertThat(post(r, "/v1/chat/completions", chat(MODEL, "hi")).status()).isEqualTo(200);
    }
    SimulatorVerticle victim = replicas.get(1);
    int port = victim.actualPort();
    vertx.undeploy(victim.deploymentID()).await();
    Throwable down = catchThrowable(() -> send(port, HttpMethod.GET, "/health", null).await(30, TimeUnit.SECONDS));
    assertThat(down).isNotNull();

    SimulatorVerticle restarted = deploy(port, settings());
    assertThat(restarted.actualPort()).isEqualTo(port);
    assertThat(get(restarted, "/health").status()).isEqualTo(200);
    assertThat(post(replicas.get(0), "/v1/chat/completions", chat(MODEL, "hi")).status()).isEqualTo(200);
  }

  @Test
  void undeployCutsOpenStreams() {
    SimulatorVerticle sim = deploy(settings(new JsonObject().put("interTokenMs", 200).put("tokensPerAnswer", 100)));
    Promise<Void> started = Promise.promise();
    Promise<Boolean> finished = Promise.promise();
    context.runOnContext(v -> client.request(new RequestOptions().setMethod(HttpMethod.POST)
            .setPort(sim.actualPort()).setURI("/v1/chat/completions"))
        .compose(req -> req.send(chat(MODEL, "hi").put("stream", true).encode()))
        .onSuccess(resp -> {
          resp.handler(b -> started.tryComplete());
          resp.endHandler(x -> finished.tryComplete(true));
          resp.exceptionHandler(t -> finished.tryComplete(false));
        })
        .onFailure(t -> finished.tryComplete(false)));
    started.future().await();
    vertx.undeploy(sim.deploymentID()).await();
    assertThat(finished.future().await()).isFalse();
  }
}
