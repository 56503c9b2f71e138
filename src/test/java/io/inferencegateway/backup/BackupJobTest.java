package io.inferencegateway.backup;

import io.inferencegateway.support.Poll;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.simulator.SimulatorVerticle;
import io.inferencegateway.store.DatabaseUrl;
import io.inferencegateway.support.GatewayHarness;
import io.inferencegateway.support.Http;
import io.inferencegateway.support.TcpProxy;
import io.inferencegateway.support.TestServices;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The scheduled job in a running gateway on MariaDB, reached through a {@link TcpProxy} the test cuts: the backup due
 * while the database is unreachable fails (mysqldump cannot connect), is recorded and retried, the gateway serves on,
 * and once the database is back a retry succeeds; every attempt ends up in {@code GET /api/v1/backups} and Prometheus.
 */
class BackupJobTest {

  static final String MODEL = "test/backup-job";
  static final String ADMIN = "sk-admin-test";

  @Test
  void aBackupThatFailsIsRecordedAndRetriedWhileTheGatewayServesOn() throws Exception {
    Vertx vertx = Vertx.vertx();
    String realUrl = TestServices.freshMysqlDatabase(vertx);
    DatabaseUrl real = DatabaseUrl.parse(realUrl);
    TcpProxy proxy = new TcpProxy(vertx, real.host(), real.port()).start();
    String viaProxy = "mysql://" + real.user() + ":" + real.password() + "@127.0.0.1:" + proxy.port() + "/" + real.database();
    GatewayConfig base = GatewayHarness.baseConfig(viaProxy, null);
    GatewayConfig.Backup b = base.backup();
    GatewayConfig config = base.withBackup(new GatewayConfig.Backup("0 3 * * *", null, 3, 4, 1500, 120_000,
        null, null, b.s3()));
    Http http = new Http(vertx);
    try (GatewayHarness gw = GatewayHarness.start(config, null, null)) {
      SimulatorVerticle sim = gw.simulator(0, GatewayHarness.simSettings(MODEL, new JsonObject()));
      gw.replica(gw.model(MODEL), "http://127.0.0.1:" + sim.actualPort());
      GatewayHarness.Key key = gw.key("backup-job");
      JsonObject chat = new JsonObject().put("model", MODEL)
          .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi")));

      // the job as a leader would run it, with a clock two seconds before tomorrow's 03:00 UTC
      Instant slot = Instant.now().truncatedTo(ChronoUnit.DAYS).plus(1, ChronoUnit.DAYS).plus(3, ChronoUnit.HOURS);
      Clock clock = Clock.offset(Clock.systemUTC(), Duration.between(Instant.now(), slot.minusSeconds(2)));
      proxy.stop(); // the database is unreachable when the backup is due
      gw.app.vertx().deployVerticle(new BackupVerticle(gw.app.services().database(), config,
          gw.app.services().prometheus(), clock)).await();

      Poll.until("a failed backup counted", Duration.ofSeconds(60),
          () -> metric(http, gw, "gateway_backup_failures_total") >= 1);
      assertThat(metric(http, gw, "gateway_backup_failures_total")).as("the first attempt failed").isGreaterThanOrEqualTo(1);
      Http.Response served = http.post(gw.baseUrl + "/v1/chat/completions", key.plaintext(), chat);
      assertThat(served.status()).as("the gateway serves on").isEqualTo(200);
      assertThat(http.get(gw.baseUrl + "/api/v1/backups", ADMIN).status()).as("the database is down")
          .isEqualTo(503);

      proxy.start();
      JsonObject list = Poll.value("a retry succeeded once the database was back", Duration.ofSeconds(90),
          () -> http.get(gw.baseUrl + "/api/v1/backups", ADMIN),
          r -> r.status() == 200 && r.json().getValue("last_success") != null).json();
      assertThat(list).as("a retry succeeded once the database was back").isNotNull();
      List<JsonObject> attempts = list.getJsonArray("data").stream().map(JsonObject.class::cast).toList();
      JsonObject success = list.getJsonObject("last_success");
      String expectedFile = BackupFiles.name("mariadb", slot);
      assertThat(success.getString("file")).as("named after the scheduled time").isEqualTo(expectedFile);
      assertThat(success.getString("triggered_by")).isEqualTo("schedule");
      assertThat(success.getInteger("attempt")).isGreaterThanOrEqualTo(2);
      assertThat(success.getLong("size_bytes")).isPositive();
      assertThat(attempts.get(0)).isEqualTo(success);
      List<JsonObject> failed = attempts.stream().filter(a -> a.getString("status").equals("failed")).toList();
      assertThat(failed).hasSize(success.getInteger("attempt") - 1);
      assertThat(failed.get(failed.size() - 1).getInteger("attempt")).isEqualTo(1);
      for (JsonObject f : failed) {
        assertThat(f.getString("error")).contains("exit status").containsAnyOf("Can't connect", "Lost connection");
        assertThat(f.getString("file")).isNull();
      }
      assertThat(list.getString("schedule")).isEqualTo("0 3 * * *");
      assertThat(list.getString("next_run")).isNotNull();
      assertThat(list.getInteger("keep")).isEqualTo(3);
      assertThat(list.getValue("s3")).isNull();
      assertThat(metric(http, gw, "gateway_backup_last_success_timestamp_seconds"))
          .isGreaterThan(Instant.now().minusSeconds(3600).getEpochSecond());
      assertThat(metric(http, gw, "gateway_backup_size_bytes")).isEqualTo(success.getLong("size_bytes").doubleValue());
      assertThat(metric(http, gw, "gateway_backup_failures_total")).isEqualTo(failed.size());
      assertThat(config.backup().directory(config.database().dataDir()).resolve(expectedFile)).exists();
      assertThat(http.get(gw.baseUrl + "/api/v1/backups?limit=0", ADMIN).status()).isEqualTo(400);
    } finally {
      proxy.stop();
      http.close();
      TestServices.dropMysqlDatabase(vertx, realUrl);
      vertx.close().await();
    }
  }

  /** A sample of the gateway's Prometheus endpoint (0 when absent). */
  static double metric(Http http, GatewayHarness gw, String name) {
    String text = http.get(gw.baseUrl + "/metrics", gw.config.adminApiKey()).body().toString();
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(?:\\{[^}]*})? ([0-9.eE+-]+)$").matcher(text);
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }
}
