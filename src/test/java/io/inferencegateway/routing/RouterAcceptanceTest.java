package io.inferencegateway.routing;

import io.inferencegateway.config.Addresses;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.simulator.SimulatorVerticle;
import io.inferencegateway.store.ModelRow;
import io.inferencegateway.support.GatewayHarness;
import io.inferencegateway.support.Http;
import io.inferencegateway.support.Poll;
import io.inferencegateway.support.TestServices;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The router's acceptance scenarios over real HTTP, each with three simulated vLLM replicas behind one model:
 * a replica killed under load, a replica that hangs, a stream cut mid-way, a slow replica, and prefix affinity.
 */
class RouterAcceptanceTest {

  static GatewayHarness gw;
  static GatewayHarness.Key key;
  static Vertx vertx;
  static Http http;
  static final List<JsonObject> stateEvents = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() {
    gw = GatewayHarness.embedded(c -> c
        .withHealth(new GatewayConfig.Health(1000, 500))
        .withUpstream(new GatewayConfig.Upstream(1000, 1500, 5000, 60_000, 1024))
        .withRouter(new GatewayConfig.Router("p2c", true, 512, 3, 3000, 200,
            new GatewayConfig.Breaker(5, 0.5, 20, 10, 30_000, 60_000, 0.2))));
    gw.app.vertx().eventBus().<JsonObject>consumer(Addresses.REPLICAS_STATE, m -> stateEvents.add(m.body()));
    key = gw.key("router", 1_000_000, null, null, null);
    vertx = Vertx.vertx();
    http = new Http(vertx);
  }

  @AfterAll
  static void stop() {
    http.close();
    vertx.close().await();
    gw.close();
  }

  record Replicas(String model, List<SimulatorVerticle> sims, List<Integer> ports, List<Long> ids) {}

  static Replicas threeReplicas(String model, JsonObject... settings) {
    ModelRow m = gw.model(model);
    List<SimulatorVerticle> sims = new ArrayList<>();
    List<Integer> ports = new ArrayList<>();
    List<Long> ids = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      int port = TestServices.freePort();
      JsonObject s = settings.length > i ? settings[i] : new JsonObject();
      SimulatorVerticle sim = gw.simulator(port, GatewayHarness.simSettings(model, s));
      sims.add(sim);
      ports.add(port);
      ids.add(gw.replica(m, "http://127.0.0.1:" + port));
    }
    return new Replicas(model, sims, ports, ids);
  }

  /** Chat requests a simulator received (health checks and scrapes hit other paths). */
  static long chats(SimulatorVerticle sim) {
    return sim.stats().byPath().getOrDefault("/v1/chat/completions", 0L);
  }

  static JsonObject chat(String model, String prompt, boolean stream) {
    return new JsonObject().put("model", model).put("stream", stream)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", prompt)));
  }

  @Test
  void aReplicaKilledUnderLoadCostsNoClientErrorAndRejoinsWhenBack() throws Exception {
    Replicas r = threeReplicas("test/kill", new JsonObject().put("interTokenMs", 2),
        new JsonObject().put("interTokenMs", 2), new JsonObject().put("interTokenMs", 2));
    List<Integer> statuses = new CopyOnWriteArrayList<>();
    AtomicBoolean running = new AtomicBoolean(true);
    List<Future<Void>> workers = new ArrayList<>();
    for (int w = 0; w < 6; w++) {
      int worker = w;
      workers.add(loop(running, i -> http.postAsync(gw.baseUrl + "/v1/chat/completions", key.plaintext(),
          chat(r.model(), "worker " + worker + " request " + i, false)).map(resp -> {
            statuses.add(resp.status());
            return null;
          })));
    }
    Poll.until("load is flowing", Duration.ofSeconds(20), () -> statuses.size() >= 100);
    gw.app.vertx().undeploy(r.sims().get(0).deploymentID()).await(); // kill replica 0 mid-load
    long killedAt = statuses.size();
    ReplicaState dead = gw.app.services().registry().replica(r.ids().get(0));
    Poll.until("its breaker opens", Duration.ofSeconds(10), () -> dead.breaker().state() == CircuitBreaker.State.OPEN);
    // the health check must have seen it down: its coming back is what ends the breaker's cool-down early
    Poll.until("the health check marks it down", Duration.ofSeconds(10), () -> !dead.healthy());
    Poll.until("load goes on without it", Duration.ofSeconds(20), () -> statuses.size() >= killedAt + 100);
    SimulatorVerticle back = gw.simulator(r.ports().get(0), GatewayHarness.simSettings(r.model(),
        new JsonObject().put("interTokenMs", 2)));
    Poll.until("probed and rejoined once back", Duration.ofSeconds(20),
        () -> chats(back) > 0 && dead.breaker().state() == CircuitBreaker.State.CLOSED);
    running.set(false);
    Future.all(workers).await();

    assertThat(statuses.size()).isGreaterThan((int) killedAt + 100);
    assertThat(statuses).as("zero client errors").allMatch(s -> s == 200);
    assertThat(chats(back)).as("probed and rejoined once back").isPositive();
    assertThat(dead.breaker().state()).isEqualTo(CircuitBreaker.State.CLOSED);
    assertThat(stateEvents).anySatisfy(e -> {
      assertThat(e.getLong("replica_id")).isEqualTo(r.ids().get(0));
      assertThat(e.getString("breaker")).isEqualTo("open");
    });
    assertThat(dead.retries()).isPositive();
  }

  /**
   * Issue 14 §4: a replica that accepted the request and then sends nothing is not a failed replica (it may be busy
   * with a long answer): the client gets a 504 after the first-byte timeout (1.5 s + 5 tokens x 100 ms here), the
   * request is not started again on another GPU, and the replica's breaker stays closed.
   */
  @Test
  void aHangingReplicaTimesOutWith504WithoutAVerdictOrARetry() {
    Replicas r = threeReplicas("test/hang", new JsonObject(), new JsonObject().put("hangRate", 1.0), new JsonObject());
    SimulatorVerticle hangingSim = r.sims().get(1);
    int answered = 0;
    Http.Response timedOut = null;
    for (int i = 0; i < 60 && timedOut == null; i++) {
      Http.Response resp = http.post(gw.baseUrl + "/v1/chat/completions", key.plaintext(),
          chat(r.model(), "question number " + i, false).put("max_tokens", 5));
      if (chats(hangingSim) > 0) {
        timedOut = resp;
      } else {
        assertThat(resp.status()).isEqualTo(200);
        answered++;
      }
    }
    assertThat(timedOut).as("a request reached the hanging replica").isNotNull();
    assertThat(timedOut.status()).isEqualTo(504);
    JsonObject error = timedOut.json().getJsonObject("error");
    assertThat(error.getString("code")).isEqualTo("upstream_timeout");
    assertThat(error.getString("message")).contains("within 2000 ms");
    ReplicaState hanging = gw.app.services().registry().replica(r.ids().get(1));
    assertThat(hanging.failures()).as("no failure verdict").isZero();
    assertThat(hanging.retries()).as("not retried elsewhere").isZero();
    assertThat(hanging.breaker().state()).isEqualTo(CircuitBreaker.State.CLOSED);
    assertThat(chats(r.sims().get(0)) + chats(r.sims().get(2))).as("the other replicas saw only their own requests")
        .isEqualTo(answered);
  }

  @Test
  void aStreamCutMidWayEndsWithAnErrorEventAndAFailedRecord() throws InterruptedException {
    String model = "test/cut";
    SimulatorVerticle sim = gw.simulator(0, GatewayHarness.simSettings(model,
        new JsonObject().put("dropMidStreamRate", 1.0).put("tokensPerAnswer", 20).put("interTokenMs", 5)));
    gw.replica(gw.model(model), "http://127.0.0.1:" + sim.actualPort());
    Http.Response resp = http.post(gw.baseUrl + "/v1/chat/completions", key.plaintext(), chat(model, "go", true));
    assertThat(resp.status()).isEqualTo(200);
    List<String> events = resp.events();
    assertThat(events).doesNotContain("[DONE]");
    JsonObject last = new JsonObject(events.get(events.size() - 1));
    assertThat(last.getJsonObject("error").getString("code")).isEqualTo("stream_interrupted");
    assertThat(events.size()).isBetween(3, 20);

    Row row = Poll.value("its usage row", Duration.ofSeconds(10), () -> {
      var rows = gw.app.services().database().pool().preparedQuery("SELECT * FROM metrics WHERE request_id = ?")
          .execute(Tuple.of(resp.header("x-request-id"))).await();
      return rows.size() == 1 ? rows.iterator().next() : null;
    }, java.util.Objects::nonNull);
    assertThat(row.getInteger("status")).isEqualTo(502);
    assertThat(row.getString("error")).contains("stream interrupted");
    assertThat(row.getInteger("completion_tokens")).isBetween(1, 19);
  }

  @Test
  void mostTrafficAvoidsASlowReplica() {
    Replicas r = threeReplicas("test/slow-one", new JsonObject().put("interTokenMs", 40),
        new JsonObject().put("interTokenMs", 1), new JsonObject().put("interTokenMs", 1));
    List<Future<Http.Response>> all = new ArrayList<>();
    AtomicBoolean running = new AtomicBoolean(true);
    List<Future<Void>> workers = new ArrayList<>();
    int[] counter = {0};
    for (int w = 0; w < 8; w++) {
      workers.add(loop(running, i -> {
        int n;
        synchronized (counter) {
          n = counter[0]++;
          if (n >= 240) {
            running.set(false);
          }
        }
        return http.postAsync(gw.baseUrl + "/v1/chat/completions", key.plaintext(),
            chat(r.model(), "distinct prompt " + n, false)).mapEmpty();
      }));
    }
    Future.all(workers).await();
    long slow = chats(r.sims().get(0));
    long total = r.sims().stream().mapToLong(RouterAcceptanceTest::chats).sum();
    assertThat(total).isGreaterThanOrEqualTo(240);
    assertThat(slow / (double) total).as("share of the slow replica (uniform would be 0.33)").isLessThan(0.2);
  }

  @Test
  void repeatedPromptsLandOnTheSameReplica() {
    Replicas r = threeReplicas("test/affinity");
    for (int i = 0; i < 20; i++) {
      JsonObject body = new JsonObject().put("model", r.model()).put("messages", new JsonArray()
          .add(new JsonObject().put("role", "system").put("content", "You are a helpful assistant for ACME."))
          .add(new JsonObject().put("role", "user").put("content", "What are your opening hours?")));
      assertThat(http.post(gw.baseUrl + "/v1/chat/completions", key.plaintext(), body).status()).isEqualTo(200);
    }
    List<Long> counts = r.sims().stream().map(RouterAcceptanceTest::chats).toList();
    assertThat(counts).containsExactlyInAnyOrder(20L, 0L, 0L);

    // the OpenAI `user` field (or an x-session-id header) pins a conversation whose messages change
    Replicas u = threeReplicas("test/affinity-user");
    for (int i = 0; i < 12; i++) {
      http.post(gw.baseUrl + "/v1/chat/completions", key.plaintext(), chat(u.model(), "turn " + i, false).put("user", "alice"));
    }
    assertThat(u.sims().stream().map(RouterAcceptanceTest::chats).toList()).containsExactlyInAnyOrder(12L, 0L, 0L);
    for (int i = 0; i < 12; i++) {
      http.post(gw.baseUrl + "/v1/chat/completions", key.plaintext(), chat(u.model(), "other turn " + i, false));
    }
    assertThat(u.sims().stream().filter(s -> chats(s) > 0).count())
        .as("without a user or session, different prompts spread").isGreaterThan(1);
  }

  /** Runs {@code step} again and again while {@code running}, one at a time; completes when it stops. */
  static Future<Void> loop(AtomicBoolean running, java.util.function.IntFunction<Future<Void>> step) {
    io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
    next(running, step, 0, done);
    return done.future();
  }

  private static void next(AtomicBoolean running, java.util.function.IntFunction<Future<Void>> step, int i,
                           io.vertx.core.Promise<Void> done) {
    if (!running.get()) {
      done.complete();
      return;
    }
    step.apply(i).onComplete(ar -> next(running, step, i + 1, done));
  }
}
