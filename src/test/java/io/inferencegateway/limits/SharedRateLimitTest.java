package io.inferencegateway.limits;

import io.inferencegateway.simulator.SimulatorVerticle;
import io.inferencegateway.support.GatewayHarness;
import io.inferencegateway.support.Http;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A per-key limit of N requests per minute holds across two gateway instances sharing one Redis. */
class SharedRateLimitTest {

  static final String MODEL = "test/shared";

  @Test
  void twoGatewaysOnOneRedisLetExactlyNThrough() {
    // a generous Redis timeout: on a loaded machine a slow answer would make each instance fall back to its own
    // in-process limit, which is the documented behaviour but not what this test is about
    try (GatewayHarness a = GatewayHarness.mariadb(true, c -> c.withRedis(new io.inferencegateway.config.GatewayConfig.Redis(
        c.redis().url(), "local", 10_000, c.redis().keyPrefix())))) {
      SimulatorVerticle sim = a.simulator(0, GatewayHarness.simSettings(MODEL, new JsonObject()));
      a.replica(a.model(MODEL), "http://127.0.0.1:" + sim.actualPort());
      GatewayHarness.Key key = a.key("shared", 10, null, null, null);
      try (GatewayHarness b = a.sibling()) {
        Vertx vertx = Vertx.vertx();
        Http http = new Http(vertx);
        try {
          JsonObject body = new JsonObject().put("model", MODEL)
              .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi")));
          List<Future<Http.Response>> calls = new ArrayList<>();
          for (int i = 0; i < 30; i++) {
            String base = (i % 2 == 0 ? a : b).baseUrl;
            calls.add(http.postAsync(base + "/v1/chat/completions", key.plaintext(), body));
          }
          List<Integer> statuses = Future.all(calls).await().<Http.Response>list().stream()
              .map(Http.Response::status).toList();
          assertThat(statuses).filteredOn(s -> s == 200).hasSize(10);
          assertThat(statuses).filteredOn(s -> s == 429).hasSize(20);
        } finally {
          http.close();
          vertx.close().await();
        }
      }
    }
  }
}
