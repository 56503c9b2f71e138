package io.inferencegateway.ingress;

import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.support.GatewayHarness;
import io.inferencegateway.support.RawClients;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** The request deadline, connection limits, h2c and the admin API's key check before its body (issue 14 §1). */
class ClientGuardTest {

  static GatewayConfig.Clients clients(long deadlineMs, int maxConnections, int perAddress) {
    return new GatewayConfig.Clients(256L << 20, 64L << 20, deadlineMs, 60_000, maxConnections, perAddress, false);
  }

  @Test
  void idleConnectionsAreClosedButALongAnswerKeepsItsConnection() throws Exception {
    String model = "test/idle";
    try (GatewayHarness gw = GatewayHarness.embedded(c -> c.withHttp(c.http().withClients(
            new GatewayConfig.Clients(256L << 20, 64L << 20, 30_000, 1500, 100, 100, false)))
        .withHealth(new GatewayConfig.Health(1000, 10_000)))) {
      var sim = gw.simulator(0, GatewayHarness.simSettings(model,
          new JsonObject().put("timeToFirstTokenMs", 4000).put("tokensPerAnswer", 2)));
      gw.replica(gw.model(model), "http://127.0.0.1:" + sim.actualPort());
      GatewayHarness.Key key = gw.key("idler");
      String chat = new JsonObject().put("model", model).put("messages", new io.vertx.core.json.JsonArray()
          .add(new JsonObject().put("role", "user").put("content", "take your time"))).encode();
      try (RawClients c = RawClients.connect(gw.app.port(), 2)) {
        c.sendHeads(i -> "GET /health HTTP/1.1\r\nHost: g\r\n\r\n");
        c.poll(Duration.ofSeconds(10));
        assertThat(c.clients()).allMatch(x -> x.status() == 200 && !x.closedByServer());
        long t0 = System.nanoTime();
        // 0 stays silent; 1 trickles the head of its next request, a byte every 300 ms
        byte[] next = "GET /health HTTP/1.1\r\nHost: g\r\nX-Slow: yes\r\n\r\n".getBytes();
        for (int i = 0; i < next.length && !c.clients().get(1).closedByServer(); i++) {
          c.send(1, new byte[] {next[i]});
          c.pollUntilClosed(Duration.ofMillis(300));
        }
        c.pollUntilClosed(Duration.ofSeconds(5));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(c.clients()).allMatch(RawClients.Client::closedByServer);
        assertThat(c.clients().get(1).received().split("HTTP/1.1 ").length).as("one answer only").isEqualTo(2);
        // idle for 1.5 s, noticed by a sweep a second
        assertThat(ms).isBetween(1000L, 1500L + 2000 + 500);
      }
      // a chat whose answer takes 4 s, longer than the idle timeout, arrives whole
      try (RawClients c = RawClients.connect(gw.app.port(), 1)) {
        c.sendHeads(i -> "POST /v1/chat/completions HTTP/1.1\r\nHost: g\r\nAuthorization: Bearer " + key.plaintext()
            + "\r\nContent-Type: application/json\r\nContent-Length: " + chat.length() + "\r\n\r\n" + chat);
        c.poll(Duration.ofSeconds(15));
        assertThat(c.clients().get(0).status()).isEqualTo(200);
        c.pollUntilClosed(Duration.ofMillis(500)); // the rest of the answer
        assertThat(c.clients().get(0).received()).contains("\"choices\"");
        assertThat(c.clients().get(0).answerMillis()).isGreaterThan(3500);
      }
    }
  }

  @Test
  void aBodyOrHeadNotInByTheDeadlineIsAnswered408AndItsConnectionClosed() throws Exception {
    try (GatewayHarness gw = GatewayHarness.embedded(c -> c.withHttp(c.http().withClients(clients(1500, 100, 100))))) {
      GatewayHarness.Key key = gw.key("slowpoke");
      int port = gw.app.port();
      try (RawClients c = RawClients.connect(port, 4)) {
        long t0 = System.nanoTime();
        // 0: a chat body that stops halfway; 1: an admin body that stops halfway; 2: half a head; 3: nothing at all
        c.send(0, ("POST /v1/chat/completions HTTP/1.1\r\nHost: g\r\nAuthorization: Bearer " + key.plaintext()
            + "\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"model\":").getBytes());
        c.send(1, ("POST /api/v1/models HTTP/1.1\r\nHost: g\r\nAuthorization: Bearer sk-admin-test\r\n"
            + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\":").getBytes());
        c.send(2, "POST /v1/chat/completions HTTP/1.1\r\nHost: g\r\nContent-Le".getBytes());
        c.pollUntilClosed(Duration.ofSeconds(10));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(c.clients().get(0).status()).isEqualTo(408);
        assertThat(c.clients().get(0).received()).contains("\"code\":\"request_timeout\"");
        assertThat(c.clients().get(1).status()).isEqualTo(408);
        assertThat(c.clients().get(2).received()).isEmpty();
        assertThat(c.clients().get(3).received()).isEmpty();
        assertThat(c.clients()).allMatch(RawClients.Client::closedByServer);
        // deadline 1.5 s, swept once a second, then up to the linger time for the refused bodies
        assertThat(ms).isBetween(1400L, 1500L + 1000 + PendingBody.LINGER_MS + 1000);
      }
      // the gateway gave back what those held and keeps serving
      assertThat(gw.app.services().clientLimits().buffered()).isZero();
    }
  }

  @Test
  void connectionsBeyondThePerAddressLimitAreClosedOnArrival() throws Exception {
    try (GatewayHarness gw = GatewayHarness.embedded(c -> c.withHttp(c.http().withClients(clients(30_000, 100, 3))))) {
      try (RawClients c = RawClients.connect(gw.app.port(), 5)) {
        c.pollUntilClosed(Duration.ofSeconds(3));
        assertThat(c.clients().stream().filter(RawClients.Client::closedByServer).count()).isEqualTo(2);
        assertThat(gw.app.services().clientLimits().connections()).isEqualTo(3);
      }
      // once they close, new ones are let in
      io.inferencegateway.support.Poll.until("the connections counted closed", Duration.ofSeconds(5),
          () -> gw.app.services().clientLimits().connections() == 0);
      try (RawClients c = RawClients.connect(gw.app.port(), 3)) {
        c.sendHeads(i -> "GET /health HTTP/1.1\r\nHost: g\r\n\r\n");
        c.poll(Duration.ofSeconds(5));
        assertThat(c.clients()).allMatch(x -> x.status() == 200);
      }
    }
  }

  @Test
  void h2cIsOffByDefault() throws Exception {
    try (GatewayHarness gw = GatewayHarness.embedded(c -> c)) {
      try (RawClients c = RawClients.connect(gw.app.port(), 2)) {
        // an upgrade request is answered over HTTP/1.1, without switching protocols
        c.send(0, ("GET /health HTTP/1.1\r\nHost: g\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
            + "HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n").getBytes());
        // HTTP/2 with prior knowledge is not understood
        c.send(1, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes());
        c.poll(Duration.ofSeconds(5));
        assertThat(c.clients().get(0).status()).isEqualTo(200);
        assertThat(c.clients().get(0).received()).doesNotContain("101");
        assertThat(c.clients().get(1).received()).doesNotStartWith("\0");
        assertThat(c.clients().get(1).status()).isNotEqualTo(200);
      }
    }
  }

  @Test
  void anAdminBodyIsNotReadBeforeTheKeyIsChecked() throws Exception {
    try (GatewayHarness gw = GatewayHarness.embedded(c -> c)) {
      try (RawClients c = RawClients.connect(gw.app.port(), 2)) {
        c.sendHeads(i -> "POST " + (i == 0 ? "/api/v1/models" : "/api/v1/generate_api_key") + " HTTP/1.1\r\nHost: g\r\n"
            + "Authorization: Bearer not-the-admin-key\r\nContent-Type: application/json\r\n"
            + "Content-Length: 10485760\r\n\r\n");
        c.poll(Duration.ofSeconds(5));
        for (RawClients.Client x : c.clients()) {
          assertThat(x.status()).isEqualTo(401);
          assertThat(x.answerMillis()).isLessThan(1000);
          assertThat(x.received()).containsIgnoringCase("connection: close");
        }
        c.pollUntilClosed(Duration.ofMillis(PendingBody.LINGER_MS + 3000));
        assertThat(c.clients()).allMatch(RawClients.Client::closedByServer);
      }
    }
  }
}
