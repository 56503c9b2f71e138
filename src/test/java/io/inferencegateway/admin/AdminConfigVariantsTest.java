package io.inferencegateway.admin;

import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.store.ModelStore;
import io.inferencegateway.store.ModelRow;
import io.inferencegateway.store.ReplicaRow;
import io.inferencegateway.support.GatewayHarness;
import io.inferencegateway.support.Http;
import io.inferencegateway.support.TestClock;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What depends on configuration, each on its own gateway (embedded database): console login disabled without a
 * password, login throttling per address over HTTP, and Hyperstack operations refused without a Hyperstack key.
 */
class AdminConfigVariantsTest {

  static Vertx vertx;
  static Http http;

  @BeforeAll
  static void client() {
    vertx = Vertx.vertx();
    http = new Http(vertx);
  }

  @AfterAll
  static void close() {
    http.close();
    vertx.close().await();
  }

  static Http.Response login(GatewayHarness gw, String password) {
    return http.post(gw.baseUrl + "/api/v1/auth/login", null, new JsonObject().put("password", password));
  }

  @Test
  void withoutAConsolePasswordLoginIsDisabledButTheAdminKeyWorks() {
    try (GatewayHarness gw = GatewayHarness.embedded(c -> c.withAppPassword(null))) {
      Http.Response r = login(gw, "anything");
      assertThat(r.status()).isEqualTo(503);
      assertThat(r.json().getString("error")).contains("Console login is disabled").contains("APP_PASSWORD");
      Http.Response empty = login(gw, "");
      assertThat(empty.status()).isEqualTo(503);
      assertThat(http.get(gw.baseUrl + "/api/v1/tables", "sk-admin-test").status()).isEqualTo(200);
    }
  }

  @Test
  void repeatedFailuresFromOneAddressAreSlowedDownUntilASuccess() {
    TestClock clock = new TestClock();
    try (GatewayHarness gw = GatewayHarness.embedded(c -> c.withConsole(new GatewayConfig.Console(60, 2)), clock)) {
      String good = gw.config.appPassword();
      assertThat(login(gw, "wrong-1").status()).isEqualTo(401);
      assertThat(login(gw, "wrong-2").status()).isEqualTo(401);
      assertThat(login(gw, "wrong-3").status()).as("the third failure is answered, then the address waits 1 s")
          .isEqualTo(401);
      Http.Response blocked = login(gw, good);
      assertThat(blocked.status()).as("even the right password waits").isEqualTo(429);
      assertThat(Long.parseLong(blocked.header("retry-after"))).isBetween(1L, 1L);
      assertThat(blocked.json().getString("error")).contains("Too many failed login attempts");

      clock.advance(Duration.ofMillis(1000));
      assertThat(login(gw, "wrong-4").status()).isEqualTo(401);
      Http.Response longer = login(gw, good);
      assertThat(longer.status()).isEqualTo(429);
      assertThat(Long.parseLong(longer.header("retry-after"))).as("the delay doubled").isEqualTo(2L);

      clock.advance(Duration.ofMillis(1999));
      assertThat(login(gw, good).status()).as("not a millisecond early").isEqualTo(429);
      clock.advance(Duration.ofMillis(1));
      Http.Response ok = login(gw, good);
      assertThat(ok.status()).isEqualTo(200);
      assertThat(ok.json().getLong("expires_in")).isEqualTo(3600);
      assertThat(login(gw, "wrong-5").status()).as("a success resets the count").isEqualTo(401);
      assertThat(login(gw, "wrong-6").status()).isEqualTo(401);
      assertThat(http.get(gw.baseUrl + "/api/v1/tables", ok.json().getString("token")).status()).isEqualTo(200);
    }
  }

  @Test
  void hyperstackOperationsNeedAHyperstackKey() {
    try (GatewayHarness gw = GatewayHarness.embedded(c -> c)) {
      assertThat(gw.config.hyperstack().apiKey()).isNull();
      ModelRow model = gw.model("vm/needs-key");
      Http.Response create = http.post(gw.baseUrl + "/api/v1/models/" + model.id() + "/replicas", "sk-admin-test",
          AdminApiContract.vmRequest("vm-1"));
      assertThat(create.status()).isEqualTo(400);
      assertThat(create.json().getString("error")).contains("Hyperstack API key").contains("HYPERSTACK_API_KEY");
      assertThat(gw.app.services().models().replicasOf(model.id()).await()).isEmpty();

      // a replica provisioned earlier (when a key was configured): deleting its VM needs the key, the row alone does not
      ModelStore store = gw.app.services().models();
      long replica = store.insertReplica(new ModelStore.NewReplica(model.id(), null, null, null, ReplicaRow.PENDING, "vm-2",
          "flavor", "env", "image", true, "run", "key", 8000), List.of()).await();
      store.updateProvisioning(replica, ReplicaRow.SUCCESS, 77L, "http://10.0.0.2:8000", null).await();
      Http.Response refused = http.send(HttpMethod.DELETE, gw.baseUrl + "/api/v1/replicas/" + replica + "?delete_vm=1",
          "sk-admin-test", null, null);
      assertThat(refused.status()).isEqualTo(400);
      assertThat(refused.json().getString("error")).contains("Hyperstack API key");
      assertThat(store.replicaById(replica).await()).as("nothing deleted").isPresent();
      assertThat(http.send(HttpMethod.DELETE, gw.baseUrl + "/api/v1/replicas/" + replica, "sk-admin-test", null, null)
          .status()).isEqualTo(204);
      assertThat(store.replicaById(replica).await()).isEmpty();
    }
  }
}
