package io.inferencegateway.metrics;

import io.inferencegateway.config.Addresses;
import io.inferencegateway.support.TestServices;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.ext.eventbus.bridge.tcp.TcpEventBusBridge;
import io.vertx.ext.web.Router;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Instant;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Both metrics-feed bridges over real sockets (SockJS's raw WebSocket endpoint, and the TCP bridge's length-prefixed
 * JSON frames), with a stand-in token check: a client without a valid token is refused, an authorised one receives the
 * live summary, other addresses and every inbound send or publish are refused, and a socket closes when its token
 * expires.
 */
class MetricsFeedBridgeTest {

  static final String GOOD = "good-token";
  static final String SHORT = "short-lived-token";

  enum Transport { SOCKJS, TCP }

  static Vertx vertx;
  static HttpServer http;
  static TcpEventBusBridge tcp;
  static int tcpPort;
  static WebSocketClient wsClient;
  static NetClient netClient;
  static final AtomicLong published = new AtomicLong();
  static final CopyOnWriteArrayList<Object> seenByGateway = new CopyOnWriteArrayList<>();

  static final MetricsFeedBridge.TokenCheck TOKENS = token -> switch (token) {
    case GOOD -> Future.succeededFuture(Instant.MAX);
    case SHORT -> Future.succeededFuture(Instant.now().plusMillis(1500));
    default -> Future.failedFuture("invalid token");
  };

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    Router router = Router.router(vertx);
    MetricsFeedBridge.mountSockJs(vertx, router, TOKENS);
    http = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1").await();
    tcpPort = TestServices.freePort();
    tcp = MetricsFeedBridge.listenTcp(vertx, "127.0.0.1", tcpPort, TOKENS).await();
    wsClient = vertx.createWebSocketClient();
    netClient = vertx.createNetClient();
    // the gateway side: the live summary and a non-feed address, both published often
    vertx.setPeriodic(100, id -> {
      long n = published.incrementAndGet();
      vertx.eventBus().publish(Addresses.METRICS_LIVE, new JsonObject().put("requests", 1).put("n", n));
      vertx.eventBus().publish(Addresses.KEYS_CHANGED, new JsonObject().put("id", n));
    });
    vertx.eventBus().consumer(Addresses.METRICS_LIVE, msg -> {
      if (msg.body() instanceof JsonObject j && j.containsKey("from_client")) {
        seenByGateway.add(j);
      }
    });
  }

  @AfterAll
  static void stop() {
    vertx.close().await();
  }

  /** A bridge client: sends JSON frames, queues the frames it receives, and notes when the server closes it. */
  interface Client extends AutoCloseable {
    void send(JsonObject frame);

    BlockingQueue<JsonObject> received();

    Future<Void> closed();

    @Override
    void close();

    default JsonObject next(long ms) throws InterruptedException {
      return received().poll(ms, TimeUnit.MILLISECONDS);
    }
  }

  static Client connect(Transport t) {
    return t == Transport.SOCKJS ? sockJs() : tcp();
  }

  /** SockJS's raw WebSocket transport at /eventbus/websocket: one JSON message per text frame. */
  static Client sockJs() {
    WebSocket ws = wsClient.connect(http.actualPort(), "127.0.0.1", MetricsFeedBridge.SOCKJS_PATH + "/websocket").await();
    BlockingQueue<JsonObject> queue = new LinkedBlockingQueue<>();
    Promise<Void> closed = Promise.promise();
    ws.handler(data -> queue.add(data.toJsonObject())); // the bridge writes binary frames on the raw transport
    ws.closeHandler(v -> closed.tryComplete());
    return new Client() {
      public void send(JsonObject frame) {
        ws.writeTextMessage(frame.encode()).await();
      }

      public BlockingQueue<JsonObject> received() {
        return queue;
      }

      public Future<Void> closed() {
        return closed.future();
      }

      public void close() {
        ws.close();
      }
    };
  }

  /** The TCP bridge's framing: a 4-byte big-endian length, then that many bytes of JSON. */
  static Client tcp() {
    NetSocket socket = netClient.connect(tcpPort, "127.0.0.1").await();
    BlockingQueue<JsonObject> queue = new LinkedBlockingQueue<>();
    Promise<Void> closed = Promise.promise();
    Buffer[] pending = {Buffer.buffer()};
    socket.handler(data -> {
      Buffer b = pending[0].appendBuffer(data);
      int pos = 0;
      while (b.length() - pos >= 4 && b.length() - pos - 4 >= b.getInt(pos)) {
        int len = b.getInt(pos);
        queue.add(new JsonObject(b.getString(pos + 4, pos + 4 + len)));
        pos += 4 + len;
      }
      pending[0] = b.getBuffer(pos, b.length());
    });
    socket.closeHandler(v -> closed.tryComplete());
    return new Client() {
      public void send(JsonObject frame) {
        Buffer json = frame.toBuffer();
        socket.write(Buffer.buffer().appendInt(json.length()).appendBuffer(json)).await();
      }

      public BlockingQueue<JsonObject> received() {
        return queue;
      }

      public Future<Void> closed() {
        return closed.future();
      }

      public void close() {
        socket.close();
      }
    };
  }

  static JsonObject register(String address, String token) {
    JsonObject frame = new JsonObject().put("type", "register").put("address", address);
    if (token != null) {
      frame.put("headers", new JsonObject().put(MetricsFeedBridge.TOKEN_HEADER, token));
    }
    return frame;
  }

  /** The first frame within the time, skipping nothing; null if none came. */
  static JsonObject firstFrame(Client c) throws InterruptedException {
    return c.next(5000);
  }

  static boolean isMessage(JsonObject frame) {
    return "rec".equals(frame.getString("type")) || "message".equals(frame.getString("type"));
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void aClientWithoutATokenIsRefused(Transport t) throws InterruptedException {
    try (Client c = connect(t)) {
      c.send(register(Addresses.METRICS_LIVE, null));
      JsonObject frame = firstFrame(c);
      assertThat(frame).as("an answer to the registration").isNotNull();
      assertThat(frame.getString("type")).isEqualTo("err");
      assertThat(c.next(700)).as("nothing delivered").isNull();
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void aWrongTokenIsRefused(Transport t) throws InterruptedException {
    try (Client c = connect(t)) {
      c.send(register(Addresses.METRICS_LIVE, "sk-admin-guess"));
      JsonObject frame = firstFrame(c);
      assertThat(frame).isNotNull();
      assertThat(frame.getString("type")).isEqualTo("err");
      assertThat(c.next(700)).isNull();
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void anAuthorisedClientReceivesTheLiveSummary(Transport t) throws InterruptedException {
    try (Client c = connect(t)) {
      c.send(register(Addresses.METRICS_LIVE, GOOD));
      JsonObject first = firstFrame(c);
      assertThat(first).isNotNull();
      assertThat(isMessage(first)).as("a delivered message: %s", first).isTrue();
      assertThat(first.getString("address")).isEqualTo(Addresses.METRICS_LIVE);
      assertThat(first.getJsonObject("body").getInteger("requests")).isEqualTo(1);
      JsonObject second = c.next(5000);
      assertThat(second).isNotNull();
      assertThat(second.getJsonObject("body").getLong("n")).isGreaterThan(first.getJsonObject("body").getLong("n"));
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void otherAddressesAreRefusedEvenWithAToken(Transport t) throws InterruptedException {
    try (Client c = connect(t)) {
      c.send(register(Addresses.KEYS_CHANGED, GOOD));
      JsonObject frame = firstFrame(c);
      assertThat(frame).isNotNull();
      assertThat(frame.getString("type")).isEqualTo("err");
      JsonObject more = c.next(700);
      assertThat(more == null || !Addresses.KEYS_CHANGED.equals(more.getString("address"))).isTrue();
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void inboundSendsAndPublishesAreRefused(Transport t) throws InterruptedException {
    try (Client c = connect(t)) {
      JsonObject headers = new JsonObject().put(MetricsFeedBridge.TOKEN_HEADER, GOOD);
      JsonObject body = new JsonObject().put("from_client", true);
      for (String type : new String[] {"send", "publish"}) {
        for (String address : new String[] {Addresses.METRICS_LIVE, Addresses.KEYS_CHANGED}) {
          c.send(new JsonObject().put("type", type).put("address", address).put("headers", headers).put("body", body));
          JsonObject frame = firstFrame(c);
          assertThat(frame).as("%s to %s is answered", type, address).isNotNull();
          assertThat(frame.getString("type")).as("%s to %s", type, address).isEqualTo("err");
        }
      }
      Thread.sleep(300);
      assertThat(seenByGateway).as("nothing from a client reached the event bus").isEmpty();
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void theSocketClosesWhenItsTokenExpires(Transport t) throws Exception {
    try (Client c = connect(t)) {
      c.send(register(Addresses.METRICS_LIVE, SHORT));
      JsonObject first = firstFrame(c);
      assertThat(first).isNotNull();
      assertThat(isMessage(first)).isTrue();
      c.closed().await(10, TimeUnit.SECONDS);
      assertThat(c.closed().succeeded()).isTrue();
    }
  }
}
