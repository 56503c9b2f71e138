package io.inferencegateway.ingress;

import io.inferencegateway.support.Poll;
import io.inferencegateway.simulator.SimulatorVerticle;
import io.inferencegateway.support.GatewayHarness;
import io.inferencegateway.support.Http;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** A client that goes away mid-stream: the gateway cancels the upstream request and still records what was used. */
class ClientDisconnectTest {

  static final String MODEL = "test/slow";

  @Test
  void disconnectMidStreamCancelsUpstreamAndLeavesAUsageRow() throws InterruptedException {
    try (GatewayHarness gw = GatewayHarness.embedded(c -> c)) {
      SimulatorVerticle sim = gw.simulator(0, GatewayHarness.simSettings(MODEL,
          new JsonObject().put("tokensPerAnswer", 100).put("interTokenMs", 50)));
      gw.replica(gw.model(MODEL), "http://127.0.0.1:" + sim.actualPort());
      GatewayHarness.Key key = gw.key("leaver");
      Vertx vertx = Vertx.vertx();
      Http http = new Http(vertx);
      try {
        AtomicReference<String> requestId = new AtomicReference<>();
        Buffer body = new JsonObject().put("model", MODEL).put("stream", true)
            .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "tell me a story")))
            .toBuffer();
        // read until a few tokens have arrived, then drop the connection
        http.onContext(() -> http.raw().request(new RequestOptions().setMethod(HttpMethod.POST)
                .setAbsoluteURI(gw.baseUrl + "/v1/chat/completions")
                .putHeader("Authorization", "Bearer " + key.plaintext()).putHeader("Content-Type", "application/json"))
            .compose(req -> req.send(body).compose(resp -> {
              requestId.set(resp.getHeader("x-request-id"));
              Promise<Void> gotSome = Promise.promise();
              int[] events = {0};
              resp.handler(chunk -> {
                events[0] += chunk.toString().split("\n\n").length;
                if (events[0] >= 5) {
                  gotSome.tryComplete();
                }
              });
              return gotSome.future().compose(v -> req.connection().close());
            }))).await();

        // the simulator sees its client (the gateway) go away
        Poll.until("the simulator sees the gateway go away", java.time.Duration.ofSeconds(5),
            () -> sim.cancelled() > 0);
        assertThat(sim.cancelled()).isEqualTo(1);

        Row row = Poll.value("the usage row", java.time.Duration.ofSeconds(5),
            () -> gw.app.services().database().pool()
                .preparedQuery("SELECT * FROM metrics WHERE request_id = ?").execute(Tuple.of(requestId.get())).await(),
            rows -> rows.size() == 1).iterator().next();
        assertThat(row.getInteger("status")).isEqualTo(499);
        assertThat(row.getInteger("completion_tokens")).isBetween(3, 99);
        assertThat(row.getString("error")).contains("client closed");
        // a client leaving says nothing about the replica: its breaker stays closed
        var replica = gw.app.services().registry().model(MODEL).replicas().get(0);
        assertThat(replica.failures()).isZero();
        assertThat(replica.breaker().state()).isEqualTo(io.inferencegateway.routing.CircuitBreaker.State.CLOSED);
      } finally {
        http.close();
        vertx.close().await();
      }
    }
  }

}
