package io.inferencegateway.routing;

import io.inferencegateway.simulator.SimulatorSettings;
import io.inferencegateway.simulator.SimulatorVerticle;
import io.inferencegateway.support.TestServices;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The one readiness probe of vLLM servers, against the simulator over real HTTP. */
class VllmProbeTest {

  static Vertx vertx;
  static HttpClient client;
  static VllmProbe probe;
  static SimulatorVerticle sim;
  static UpstreamTarget target;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    client = vertx.createHttpClient(new HttpClientOptions(), new PoolOptions().setHttp1MaxSize(2));
    probe = new VllmProbe(client, 2000);
    int port = TestServices.freePort();
    sim = new SimulatorVerticle(port, SimulatorSettings.defaults(List.of("probe/model")), "127.0.0.1");
    vertx.deployVerticle(sim).await();
    target = UpstreamTarget.parse("http://127.0.0.1:" + port);
  }

  /**
   * Runs the call on a Vert.x context: built from the test thread, a fast answer could arrive before its body handler
   * is attached, and the call would never complete.
   */
  static <T> Future<T> onContext(Supplier<Future<T>> call) {
    Promise<T> result = Promise.promise();
    vertx.getOrCreateContext().runOnContext(v -> call.get().onComplete(result));
    return result.future();
  }

  @AfterAll
  static void stop() {
    vertx.close().await();
  }

  @Test
  void readyWhenHealthyAndTheModelIsListed() {
    onContext(() -> probe.ready(target, "probe/model")).await();
  }

  @Test
  void anotherModelIsAWrongModel() {
    assertThatThrownBy(() -> onContext(() -> probe.ready(target, "probe/other")).await())
        .isInstanceOfSatisfying(VllmProbe.NotReady.class, e -> {
          assertThat(e.wrongModel()).isTrue();
          assertThat(e.getMessage()).isEqualTo("serves [probe/model], not probe/other");
        });
  }

  @Test
  void anUnhealthyServerIsNotReadyButMayBecomeReady() {
    sim.updateSettings(sim.settings().merge(new JsonObject().put("healthy", false)));
    try {
      assertThatThrownBy(() -> onContext(() -> probe.ready(target, "probe/model")).await())
          .isInstanceOfSatisfying(VllmProbe.NotReady.class, e -> {
            assertThat(e.wrongModel()).isFalse();
            assertThat(e.getMessage()).isEqualTo("/health answered HTTP 503");
          });
    } finally {
      sim.updateSettings(sim.settings().merge(new JsonObject().put("healthy", true)));
    }
  }

  @Test
  void nothingListeningFailsWithTheTransportError() {
    UpstreamTarget nobody = UpstreamTarget.parse("http://127.0.0.1:" + TestServices.freePort());
    assertThatThrownBy(() -> onContext(() -> probe.ready(nobody, "probe/model")).await())
        .isNotInstanceOf(VllmProbe.NotReady.class);
  }

  @Test
  void servedModelsOfSomethingElseIsEmpty() {
    assertThat(VllmProbe.servedModels(io.vertx.core.buffer.Buffer.buffer("<html>"))).isEmpty();
    assertThat(VllmProbe.servedModels(io.vertx.core.buffer.Buffer.buffer("{\"data\":[{\"id\":\"a\"},{\"x\":1}]}")))
        .containsExactly("a");
  }

  @Test
  void aReplicaWithAnApiKeyIsReadyOnlyWithItAndTheRefusalSaysSo() {
    int port = TestServices.freePort();
    SimulatorVerticle keyed = new SimulatorVerticle(port, SimulatorSettings.defaults(List.of("probe/model")),
        "127.0.0.1", "rk-probe-key-1");
    vertx.deployVerticle(keyed).await();
    UpstreamTarget withoutKey = UpstreamTarget.parse("http://127.0.0.1:" + port);
    onContext(() -> probe.ready(withoutKey.withApiKey("rk-probe-key-1"), "probe/model")).await();
    assertThat(onContext(() -> probe.get(withoutKey.withApiKey("rk-probe-key-1"), "/metrics")).await().status())
        .isEqualTo(200);
    assertThatThrownBy(() -> onContext(() -> probe.ready(withoutKey, "probe/model")).await())
        .isInstanceOfSatisfying(VllmProbe.NotReady.class, e -> assertThat(e.getMessage())
            .isEqualTo("/v1/models answered HTTP 401: the replica refuses the gateway's API key for it"));
    assertThatThrownBy(() -> onContext(() -> probe.ready(withoutKey.withApiKey("rk-wrong-key-1"), "probe/model"))
        .await()).isInstanceOf(VllmProbe.NotReady.class);
    assertThat(onContext(() -> probe.get(withoutKey, "/health")).await().status()).as("/health stays open, as in vLLM")
        .isEqualTo(200);
    assertThat(onContext(() -> probe.get(withoutKey, "/metrics")).await().status()).isEqualTo(200);
  }
}
