package io.inferencegateway;

import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.simulator.SimulatorVerticle;
import io.inferencegateway.support.GatewayHarness;
import io.inferencegateway.support.Http;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.transport.Transport;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The gateway proxies the same on each network transport it can run on (the rest of the suite runs on "auto": io_uring
 * where the kernel allows it).
 */
class TransportTest {

  private static final String MODEL = "transport/model";

  @ParameterizedTest
  @ValueSource(strings = {"io_uring", "epoll", "nio"})
  void answersAndStreamsOnEachTransport(String name) {
    Transport transport = switch (name) {
      case "io_uring" -> Transport.IO_URING;
      case "epoll" -> Transport.EPOLL;
      default -> Transport.NIO;
    };
    assumeTrue(transport.available(), () -> name + " cannot run on this machine: " + transport.unavailabilityCause());
    try (GatewayHarness gw = GatewayHarness.embedded(c -> c.withHttp(c.http().withTransport(name)))) {
      assertThat(gw.app.vertx().isNativeTransportEnabled()).isEqualTo(transport != Transport.NIO);
      SimulatorVerticle sim = gw.simulator(0, GatewayHarness.simSettings(MODEL,
          new JsonObject().put("tokensPerAnswer", 5)));
      gw.replica(gw.model(MODEL), "http://127.0.0.1:" + sim.actualPort());
      GatewayHarness.Key key = gw.key("transport-" + name);
      Vertx vertx = Vertx.vertx();
      Http http = new Http(vertx);
      try {
        JsonObject body = new JsonObject().put("model", MODEL)
            .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hello")));
        Http.Response plain = http.post(gw.baseUrl + "/v1/chat/completions", key.plaintext(), body);
        assertThat(plain.status()).isEqualTo(200);
        assertThat(plain.json().getJsonObject("usage").getInteger("completion_tokens")).isEqualTo(5);

        Http.Response stream = http.post(gw.baseUrl + "/v1/chat/completions", key.plaintext(),
            body.copy().put("stream", true));
        assertThat(stream.status()).isEqualTo(200);
        List<String> events = stream.events();
        assertThat(events).last().isEqualTo("[DONE]");
        assertThat(events.stream().filter(e -> e.contains("\"content\""))).hasSizeGreaterThanOrEqualTo(5);
        // concurrent requests on pooled connections while health checks and scrapes run (Netty 4.2.9's io_uring
        // closed such connections: every request then failed with "Connection was closed")
        int ok = 0;
        for (int round = 0; round < 3; round++) {
          List<io.vertx.core.Future<Http.Response>> calls = new java.util.ArrayList<>();
          for (int i = 0; i < 30; i++) {
            calls.add(http.postAsync(gw.baseUrl + "/v1/chat/completions", key.plaintext(), body));
          }
          for (io.vertx.core.Future<Http.Response> call : calls) {
            assertThat(call.await().status()).isEqualTo(200);
            ok++;
          }
        }
        assertThat(ok).isEqualTo(90);
        assertThat(gw.awaitUsageRows(92, 20_000)).isEqualTo(92);
      } finally {
        http.close();
        vertx.close().await();
      }
    }
  }
}
