package io.inferencegateway.limits;

import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.simulator.SimulatorVerticle;
import io.inferencegateway.support.GatewayHarness;
import io.inferencegateway.support.Http;
import io.inferencegateway.support.TcpProxy;
import io.inferencegateway.support.TestServices;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.URI;

import static org.assertj.core.api.Assertions.assertThat;

/** Redis dies while the gateway runs: it keeps serving under the configured policy, and counts the failures. */
class RedisFailureTest {

  static final String MODEL = "test/redis-down";

  @ParameterizedTest(name = "onFailure={0}")
  @CsvSource({"local,200,429", "open,200,200", "closed,503,503"})
  void limitsSurviveRedisGoingAway(String policy, int firstStatus, int afterLimitStatus) {
    Vertx vertx = Vertx.vertx();
    URI redis = URI.create(TestServices.redisUrl());
    TcpProxy proxy = new TcpProxy(vertx, redis.getHost(), redis.getPort() < 0 ? 6379 : redis.getPort()).start();
    Http http = new Http(vertx);
    try (GatewayHarness gw = GatewayHarness.embedded(c -> c.withRedis(new GatewayConfig.Redis(
        "redis://127.0.0.1:" + proxy.port(), policy, 200, "igw-test-" + System.nanoTime())))) {
      SimulatorVerticle sim = gw.simulator(0, GatewayHarness.simSettings(MODEL, new JsonObject()));
      gw.replica(gw.model(MODEL), "http://127.0.0.1:" + sim.actualPort());
      GatewayHarness.Key key = gw.key("r", 2, null, null, null);
      JsonObject body = new JsonObject().put("model", MODEL)
          .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi")));

      assertThat(http.post(gw.baseUrl + "/v1/chat/completions", key.plaintext(), body).status()).isEqualTo(200);
      proxy.stop();
      assertThat(http.post(gw.baseUrl + "/v1/chat/completions", key.plaintext(), body).status()).isEqualTo(firstStatus);
      http.post(gw.baseUrl + "/v1/chat/completions", key.plaintext(), body);
      // with local limits the key's 2 rpm now hold in-process
      assertThat(http.post(gw.baseUrl + "/v1/chat/completions", key.plaintext(), body).status())
          .isEqualTo(afterLimitStatus);
      assertThat(gw.app.services().meters().redisFailures().count()).isPositive();
    } finally {
      proxy.stop();
      http.close();
      vertx.close().await();
    }
  }
}
