package io.inferencegateway.metrics;

import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.simulator.SimulatorVerticle;
import io.inferencegateway.store.DatabaseUrl;
import io.inferencegateway.support.GatewayHarness;
import io.inferencegateway.support.Http;
import io.inferencegateway.support.TcpProxy;
import io.inferencegateway.support.TestServices;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.mysqlclient.MySQLBuilder;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.sqlclient.Pool;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * MariaDB goes away during load and comes back: every request still gets exactly one usage row. The gateway talks to
 * the real server through a {@link TcpProxy} the test cuts; a tiny memory buffer makes the writer feed the database
 * from the journal's files.
 */
class UsageDurabilityTest {

  static final String MODEL = "test/durable";

  @Test
  void aDatabaseOutageLosesNoUsageRecordAndDuplicatesNone() throws InterruptedException {
    Vertx vertx = Vertx.vertx();
    String realUrl = TestServices.freshMysqlDatabase(vertx);
    DatabaseUrl real = DatabaseUrl.parse(realUrl);
    TcpProxy proxy = new TcpProxy(vertx, real.host(), real.port()).start();
    String viaProxy = "mysql://" + real.user() + ":" + real.password() + "@127.0.0.1:" + proxy.port() + "/" + real.database();
    GatewayConfig config = GatewayHarness.baseConfig(viaProxy, null);
    GatewayConfig.Usage u = config.usage();
    config = config.withUsage(new GatewayConfig.Usage(50, 50, 40, false, u.contentMaxChars()));
    Http http = new Http(vertx);
    Pool check = MySQLBuilder.pool().connectingTo(new MySQLConnectOptions().setHost(real.host()).setPort(real.port())
        .setUser(real.user()).setPassword(real.password()).setDatabase(real.database())).using(vertx).build();
    try (GatewayHarness gw = GatewayHarness.start(config, null, null)) {
      SimulatorVerticle sim = gw.simulator(0, GatewayHarness.simSettings(MODEL, new JsonObject()));
      gw.replica(gw.model(MODEL), "http://127.0.0.1:" + sim.actualPort());
      GatewayHarness.Key key = gw.key("durable", 1_000_000, null, null, null);
      JsonObject body = new JsonObject().put("model", MODEL)
          .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi")));

      int sent = 0;
      int ok = 0;
      for (int round = 0; round < 30; round++) {
        if (round == 10) {
          proxy.stop(); // the database disappears mid-load
        }
        if (round == 22) {
          proxy.start(); // and comes back
        }
        List<Future<Http.Response>> batch = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
          batch.add(http.postAsync(gw.baseUrl + "/v1/chat/completions", key.plaintext(), body));
        }
        for (Http.Response r : Future.all(batch).await().<Http.Response>list()) {
          sent++;
          ok += r.status() == 200 ? 1 : 0;
        }
        Thread.sleep(100);
      }
      assertThat(ok).as("serving never depended on the database").isEqualTo(sent);

      long rows = 0;
      for (int i = 0; i < 300 && rows < sent; i++) {
        rows = check.query("SELECT COUNT(*) FROM metrics").execute().await().iterator().next().getLong(0);
        Thread.sleep(100);
      }
      Thread.sleep(500); // anything late would be a duplicate attempt: give it a chance to show up
      rows = check.query("SELECT COUNT(*) FROM metrics").execute().await().iterator().next().getLong(0);
      long distinct = check.query("SELECT COUNT(DISTINCT request_id) FROM metrics").execute().await()
          .iterator().next().getLong(0);
      assertThat(rows).isEqualTo(sent);
      assertThat(distinct).isEqualTo(sent);
      assertThat(gw.app.services().meters().usageWriteFailures().count()).as("the outage was noticed").isPositive();
    } finally {
      proxy.stop();
      check.close().await();
      http.close();
      TestServices.dropMysqlDatabase(vertx, realUrl);
      vertx.close().await();
    }
  }
}
