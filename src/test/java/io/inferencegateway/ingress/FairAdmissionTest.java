package io.inferencegateway.ingress;

import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.store.ModelRow;
import io.inferencegateway.support.GatewayHarness;
import io.inferencegateway.support.Http;
import io.inferencegateway.support.Poll;
import io.inferencegateway.support.TestServices;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fair admission over real HTTP: one simulated replica per model, at most two requests in flight on it; what waits in
 * the gateway leaves by fair share across keys, a key's concurrency limit, the maximum wait, and a client that leaves.
 */
class FairAdmissionTest {

  static final String FAST = "fair/fast";
  static final String SLOW = "fair/slow";
  static GatewayHarness gw;
  static Vertx vertx;
  static Http http;

  @BeforeAll
  static void start() {
    gw = GatewayHarness.embedded(c -> c.withAdmission(new GatewayConfig.Admission(true, 2, 1000, 1.0, 100, 3000, 0)));
    replica(FAST, new JsonObject().put("timeToFirstTokenMs", 150).put("tokensPerAnswer", 2));
    replica(SLOW, new JsonObject().put("timeToFirstTokenMs", 6000).put("tokensPerAnswer", 2));
    vertx = Vertx.vertx();
    http = new Http(vertx);
  }

  static void replica(String model, JsonObject settings) {
    ModelRow m = gw.model(model);
    int port = TestServices.freePort();
    gw.simulator(port, GatewayHarness.simSettings(model, settings));
    gw.replica(m, "http://127.0.0.1:" + port);
  }

  @AfterAll
  static void stop() {
    http.close();
    vertx.close().await();
    gw.close();
  }

  static JsonObject chat(String model) {
    return new JsonObject().put("model", model).put("max_tokens", 2)
        .put("messages", new io.vertx.core.json.JsonArray().add(new JsonObject().put("role", "user").put("content", "hi")));
  }

  static String url() {
    return gw.baseUrl + "/v1/chat/completions";
  }

  AdmissionGate gate() {
    return gw.app.services().admission();
  }

  @Test
  void aLightKeyIsServedWithinARoundWhileAHeavyKeysBurstWaits() {
    GatewayHarness.Key heavy = gw.key("heavy");
    GatewayHarness.Key light = gw.key("light");
    waitUntilRoutable(FAST, heavy);
    AtomicInteger heavyDone = new AtomicInteger();
    List<Future<Http.Response>> burst = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      burst.add(http.postAsync(url(), heavy.plaintext(), chat(FAST)).onSuccess(r -> heavyDone.incrementAndGet()));
    }
    Poll.until("the heavy burst waits in the gateway", Duration.ofSeconds(10), () -> gate().queued(FAST) >= 10);
    Http.Response answer = http.post(url(), light.plaintext(), chat(FAST));
    int heavyBeforeLight = heavyDone.get();
    assertThat(answer.status()).isEqualTo(200);
    assertThat(heavyBeforeLight).as("the light request overtook most of the heavy backlog (FIFO: all 16 first)")
        .isLessThanOrEqualTo(8);
    for (Future<Http.Response> f : burst) {
      assertThat(f.await().status()).isEqualTo(200);
    }
    assertThat(gate().queued(FAST)).isZero();
    Poll.until("every ticket given back", Duration.ofSeconds(5), () -> gate().admitted(FAST) == 0);
    String metrics = http.get(gw.baseUrl + "/metrics", gw.config.adminApiKey()).body().toString();
    assertThat(metrics).contains("gateway_admission_queue_length{model=\"fair/fast\"")
        .contains("gateway_admission_queued_total{model=\"fair/fast\"")
        .contains("gateway_admission_wait_seconds_count{model=\"fair/fast\"");
  }

  @Test
  void aWaitTooLongIs429QueueTimeoutAndAClientThatLeavesGivesItsPlaceBack() {
    GatewayHarness.Key key = gw.key("slow");
    waitUntilRoutable(FAST, key);
    List<Future<Http.Response>> filling = List.of(http.postAsync(url(), key.plaintext(), chat(SLOW)),
        http.postAsync(url(), key.plaintext(), chat(SLOW)));
    Poll.until("both places taken", Duration.ofSeconds(10), () -> gate().admitted(SLOW) == 2);
    HttpClientRequest leaving = http.onContext(() -> http.raw().request(new RequestOptions().setMethod(HttpMethod.POST)
        .setAbsoluteURI(url()).putHeader("authorization", "Bearer " + key.plaintext())
        .putHeader("content-type", "application/json")).map(req -> {
          req.end(chat(SLOW).toBuffer());
          return req;
        })).await();
    Poll.until("the third request waits", Duration.ofSeconds(10), () -> gate().queued(SLOW) == 1);
    http.onContext(() -> leaving.connection().close()).await();
    Poll.until("the client that left is out of the queue", Duration.ofSeconds(10), () -> gate().queued(SLOW) == 0);

    long started = System.nanoTime();
    Http.Response timedOut = http.post(url(), key.plaintext(), chat(SLOW));
    long waitedMs = (System.nanoTime() - started) / 1_000_000;
    assertThat(timedOut.status()).isEqualTo(429);
    assertThat(timedOut.json().getJsonObject("error").getString("code")).isEqualTo("queue_timeout");
    assertThat(timedOut.json().getJsonObject("error").getString("type")).isEqualTo("rate_limit_exceeded");
    assertThat(timedOut.header("retry-after")).isNotNull();
    assertThat(waitedMs).as("it waited the maximum wait").isGreaterThanOrEqualTo(2900);
    for (Future<Http.Response> f : filling) {
      assertThat(f.await().status()).isEqualTo(200);
    }
  }

  @Test
  void aKeysConcurrencyLimitIsSetByTheAdminApiAndRefusesTheRequestOverIt() {
    GatewayHarness.Key key = gw.key("capped");
    Http.Response set = http.send(HttpMethod.PUT, gw.baseUrl + "/api/v1/api_keys/" + key.row().id(), "sk-admin-test",
        "application/json", new JsonObject().put("priority", 3).put("max_concurrent_requests", 1)
            .putNull("queue_weight").toBuffer());
    assertThat(set.status()).isEqualTo(204);
    String keys = http.get(gw.baseUrl + "/api/v1/api_keys", "sk-admin-test").body().toString();
    assertThat(keys).contains("\"max_concurrent_requests\":1").contains("\"priority\":3");
    Http.Response bad = http.send(HttpMethod.PUT, gw.baseUrl + "/api/v1/api_keys/" + key.row().id(), "sk-admin-test",
        "application/json", new JsonObject().put("priority", 12).put("max_concurrent_requests", 0)
            .put("queue_weight", 1).toBuffer());
    assertThat(bad.status()).isEqualTo(400);

    Future<Http.Response> first = http.postAsync(url(), key.plaintext(), chat(SLOW));
    Poll.until("the first request is in", Duration.ofSeconds(10),
        () -> gate().admitted(SLOW) + gate().queued(SLOW) >= 1);
    Http.Response second = http.post(url(), key.plaintext(), chat(FAST));
    assertThat(second.status()).isEqualTo(429);
    assertThat(second.json().getJsonObject("error").getString("code")).isEqualTo("concurrency_limit_exceeded");
    assertThat(second.header("retry-after")).isEqualTo("1");
    assertThat(first.await().status()).isEqualTo(200);
    assertThat(http.post(url(), key.plaintext(), chat(FAST)).status()).as("its place is free again").isEqualTo(200);
  }

  @Test
  void xPriorityMayLowerTheKeysPriorityButNotRaiseIt() {
    io.inferencegateway.store.ApiKeyRow key = new io.inferencegateway.store.ApiKeyRow(1, "u", "h", "p", 10, null, null,
        true, null, java.time.Instant.now(), null, 4, null, null);
    assertThat(Admit.priority(key, null)).isEqualTo(4);
    assertThat(Admit.priority(key, "1")).isEqualTo(1);
    assertThat(Admit.priority(key, "9")).as("cut to the key's own").isEqualTo(4);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Admit.priority(key, "high"))
        .isInstanceOfSatisfying(IngressFailure.class, f -> assertThat(f.status()).isEqualTo(400));
    assertThat(Admit.priority(new io.inferencegateway.store.ApiKeyRow(1, "u", "h", "p", 10, null, null, true, null,
        java.time.Instant.now(), null), null)).isEqualTo(io.inferencegateway.store.ApiKeyRow.DEFAULT_PRIORITY);
  }

  private static void waitUntilRoutable(String model, GatewayHarness.Key key) {
    Poll.until(model + " routable", Duration.ofSeconds(15),
        () -> gw.app.services().registry().model(model) != null
            && gw.app.services().registry().model(model).hasRoutableReplica());
  }
}
