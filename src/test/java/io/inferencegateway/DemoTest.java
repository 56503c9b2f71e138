package io.inferencegateway;

import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.support.GatewayHarness;
import io.inferencegateway.support.Http;
import io.inferencegateway.support.TestServices;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The demo's simulator behaves like a replica with an API key: only the gateway, which holds the key, gets answers. */
class DemoTest {

  @Test
  void theDemoReplicasAnswerOnlyTheGateway() {
    // no health checks during the test (a 500 ms check timeout can pass on a loaded machine): the request meets the
    // replica itself
    GatewayConfig config = GatewayHarness.baseConfig(null, null).withHealth(new GatewayConfig.Health(3_600_000, 5_000));
    int simPort = TestServices.freePort();
    GatewayApp app = Demo.start(config, simPort).await();
    Vertx vertx = Vertx.vertx();
    Http http = new Http(vertx);
    try {
      String base = "http://127.0.0.1:" + app.port();
      String userKey = http.post(base + "/api/v1/generate_api_key", config.adminApiKey(),
          new JsonObject().put("user_id", "demo-test")).json().getString("api_key");
      JsonObject chat = new JsonObject().put("model", Demo.PRESET_MODELS.get(0))
          .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "Hi")));
      Http.Response through = http.post(base + "/v1/chat/completions", userKey, chat);
      assertThat(through.status()).as(through.body().toString()).isEqualTo(200);
      assertThat(http.post("http://127.0.0.1:" + simPort + "/v1/chat/completions", null, chat).status())
          .as("straight to the replica, without its key").isEqualTo(401);
      assertThat(http.get("http://127.0.0.1:" + simPort + "/health", null).status()).isEqualTo(200);
      Http.Response replicas = http.get(base + "/api/v1/models/1/replicas", config.adminApiKey());
      assertThat(replicas.body().toJsonArray().getJsonObject(0).getBoolean("api_key_set")).isTrue();
    } finally {
      http.close();
      vertx.close().await();
      app.close().await();
    }
  }
}
