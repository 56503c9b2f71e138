package io.inferencegateway;

import io.inferencegateway.config.Addresses;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.metrics.MetricsFeedBridge;
import io.inferencegateway.support.GatewayHarness;
import io.inferencegateway.support.Http;
import io.inferencegateway.support.TestServices;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The metrics feed as the gateway wires it: the SockJS bridge on the ingress port and the TCP bridge started from
 * {@code bridge.tcpPort}, both accepting a console session token from the real login and the admin key, and refusing
 * a forged token.
 */
class ControlPlaneFeedTest {

  static GatewayHarness gw;
  static int tcpPort;
  static Vertx vertx;
  static Http http;
  static String session;

  @BeforeAll
  static void start() {
    tcpPort = TestServices.freePort();
    gw = GatewayHarness.embedded(c -> c.withBridge(new GatewayConfig.Bridge(tcpPort, "127.0.0.1")));
    vertx = Vertx.vertx();
    http = new Http(vertx);
    Http.Response login = http.post(gw.baseUrl + "/api/v1/auth/login", null,
        new JsonObject().put("password", gw.config.appPassword()));
    assertThat(login.status()).isEqualTo(200);
    session = login.json().getString("token");
  }

  @AfterAll
  static void stop() {
    http.close();
    vertx.close().await();
    gw.close();
  }

  static JsonObject register(String token) {
    return new JsonObject().put("type", "register").put("address", Addresses.METRICS_LIVE)
        .put("headers", new JsonObject().put(MetricsFeedBridge.TOKEN_HEADER, token));
  }

  /** Registers over TCP and returns the first frame answered. */
  static JsonObject overTcp(String token) throws InterruptedException {
    NetSocket socket = vertx.createNetClient().connect(tcpPort, "127.0.0.1").await();
    BlockingQueue<JsonObject> frames = new LinkedBlockingQueue<>();
    Buffer[] pending = {Buffer.buffer()};
    socket.handler(data -> {
      Buffer b = pending[0].appendBuffer(data);
      int pos = 0;
      while (b.length() - pos >= 4 && b.length() - pos - 4 >= b.getInt(pos)) {
        frames.add(new JsonObject(b.getString(pos + 4, pos + 4 + b.getInt(pos))));
        pos += 4 + b.getInt(pos);
      }
      pending[0] = b.getBuffer(pos, b.length());
    });
    Buffer json = register(token).toBuffer();
    socket.write(Buffer.buffer().appendInt(json.length()).appendBuffer(json)).await();
    try {
      return frames.poll(10, TimeUnit.SECONDS);
    } finally {
      socket.close();
    }
  }

  /** Registers over SockJS's raw WebSocket at /eventbus/websocket and returns the first frame answered. */
  static JsonObject overSockJs(String token) throws InterruptedException {
    WebSocket ws = vertx.createWebSocketClient().connect(gw.app.port(), "127.0.0.1", "/eventbus/websocket").await();
    BlockingQueue<JsonObject> frames = new LinkedBlockingQueue<>();
    ws.handler(data -> frames.add(data.toJsonObject()));
    ws.writeTextMessage(register(token).encode()).await();
    try {
      return frames.poll(10, TimeUnit.SECONDS);
    } finally {
      ws.close();
    }
  }

  @Test
  void aSessionTokenFromTheLoginReadsTheFeedOverBothBridges() throws InterruptedException {
    JsonObject tcp = overTcp(session);
    assertThat(tcp.getString("type")).isEqualTo("message");
    assertThat(tcp.getJsonObject("body").containsKey("requests")).isTrue();
    JsonObject sockJs = overSockJs(session);
    assertThat(sockJs.getString("type")).isEqualTo("rec");
    assertThat(sockJs.getJsonObject("body").containsKey("latency_ms_p95")).isTrue();
  }

  @Test
  void theAdminKeyReadsTheFeedToo() throws InterruptedException {
    assertThat(overTcp(gw.config.adminApiKey()).getString("type")).isEqualTo("message");
    assertThat(overSockJs(gw.config.adminApiKey()).getString("type")).isEqualTo("rec");
  }

  @Test
  void aForgedOrUserTokenIsRefused() throws InterruptedException {
    String forged = session.substring(0, session.lastIndexOf('.') + 1) + "c2lnbmF0dXJlLWZvcmdlZA";
    assertThat(overTcp(forged).getString("type")).isEqualTo("err");
    assertThat(overSockJs(forged).getString("type")).isEqualTo("err");
    String userKey = gw.key("feed-reader").plaintext();
    assertThat(overTcp(userKey).getString("type")).isEqualTo("err");
    assertThat(overSockJs(userKey).getString("type")).isEqualTo("err");
  }
}
