package io.inferencegateway;

import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.support.GatewayHarness;
import io.inferencegateway.support.Http;
import io.inferencegateway.support.Poll;
import io.inferencegateway.support.TestServices;
import io.inferencegateway.simulator.SimulatorVerticle;
import io.inferencegateway.store.DatabaseUrl;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.mysqlclient.MySQLBuilder;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Stopping the gateway: health endpoints, 503 {@code shutting_down} for new requests while draining, requests in
 * flight finish within the drain time, and streams still running at its end close with an SSE error event and a
 * usage row of status 503.
 */
class GracefulShutdownTest {

  static final String MODEL = "test/drain";

  @Test
  void drainingRefusesNewRequestsAndEndsStreamsAtTheDeadlineWithTheirUsage() {
    Vertx vertx = Vertx.vertx();
    String url = TestServices.freshMysqlDatabase(vertx);
    DatabaseUrl db = DatabaseUrl.parse(url);
    Pool check = MySQLBuilder.pool().connectingTo(new MySQLConnectOptions().setHost(db.host()).setPort(db.port())
        .setUser(db.user()).setPassword(db.password()).setDatabase(db.database())).using(vertx).build();
    Http http = new Http(vertx);
    try {
      GatewayConfig config = GatewayHarness.baseConfig(url, null);
      config = config.withHttp(config.http().withDrainSeconds(2));
      GatewayHarness gw = GatewayHarness.start(config, null, null);
      // streams of 200 tokens 100 ms apart (20 s): still running when the 2 s drain ends
      SimulatorVerticle slow = gw.simulator(0, GatewayHarness.simSettings(MODEL,
          new JsonObject().put("tokensPerAnswer", 200).put("interTokenMs", 100)));
      gw.replica(gw.model(MODEL), "http://127.0.0.1:" + slow.actualPort());
      GatewayHarness.Key key = gw.key("drain");
      JsonObject body = new JsonObject().put("model", MODEL).put("max_tokens", 200)
          .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi")));

      assertThat(http.get(gw.baseUrl + "/health/live", null).status()).isEqualTo(200);
      Http.Response ready = http.get(gw.baseUrl + "/health/ready", null);
      assertThat(ready.status()).isEqualTo(200);
      assertThat(ready.json().getString("status")).isEqualTo("ready");
      assertThat(ready.json().getBoolean("journal_writable")).isTrue();

      List<Future<Http.Response>> streams = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        streams.add(http.postAsync(gw.baseUrl + "/v1/chat/completions", key.plaintext(), body.copy().put("stream", true)));
      }
      Poll.until("three streams in flight", Duration.ofSeconds(10),
          () -> gw.app.services().meters().inFlight().get() == 3);

      gw.app.state().startDraining(); // as close() does first
      Http.Response refused = http.post(gw.baseUrl + "/v1/chat/completions", key.plaintext(), body);
      assertThat(refused.status()).isEqualTo(503);
      assertThat(refused.json().getJsonObject("error").getString("code")).isEqualTo("shutting_down");
      assertThat(refused.json().getJsonObject("error").getString("type")).isEqualTo("service_unavailable");
      Http.Response notReady = http.get(gw.baseUrl + "/health/ready", null);
      assertThat(notReady.status()).isEqualTo(503);
      assertThat(notReady.json().getString("status")).isEqualTo("draining");
      assertThat(http.get(gw.baseUrl + "/health/live", null).status()).as("still alive while draining").isEqualTo(200);

      long t0 = System.nanoTime();
      Future<Void> closed = gw.app.close();
      List<String> ids = new ArrayList<>();
      for (Future<Http.Response> f : streams) {
        Http.Response r = f.await();
        assertThat(r.status()).isEqualTo(200);
        List<String> events = r.events();
        JsonObject last = new JsonObject(events.get(events.size() - 1));
        assertThat(last.getJsonObject("error").getString("code")).isEqualTo("shutting_down");
        assertThat(events.size()).as("the stream ran until the deadline").isGreaterThan(5);
        ids.add(r.header("x-request-id"));
      }
      closed.await();
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertThat(ms).as("the drain waited for the deadline, then ended the streams").isBetween(1500L, 15_000L);

      for (String id : ids) {
        Row row = check.preparedQuery("SELECT status, completion_tokens FROM metrics WHERE request_id = ?")
            .execute(Tuple.of(id)).await().iterator().next();
        assertThat(row.getInteger("status")).isEqualTo(503);
        assertThat(row.getInteger("completion_tokens")).isPositive();
      }
    } finally {
      http.close();
      check.close().await();
      TestServices.dropMysqlDatabase(vertx, url);
      vertx.close().await();
    }
  }
}
