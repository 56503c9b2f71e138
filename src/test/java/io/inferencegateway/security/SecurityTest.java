package io.inferencegateway.security;

import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.simulator.SimulatorVerticle;
import io.inferencegateway.store.ModelRow;
import io.inferencegateway.support.GatewayHarness;
import io.inferencegateway.support.Http;
import io.inferencegateway.support.TestServices;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 14 §3 and §5 over real HTTP: sessions that end on logout and on a changed console password; {@code /metrics}
 * behind a token or on its own port; replicas that only the gateway can use (their key sent by the gateway, never
 * shown, stored encrypted, a refusal surfacing as 502 {@code upstream_auth_failed}); no internal address in a client's
 * error; answers with secrets not cached; out-of-range numbers refused.
 */
class SecurityTest {

  static final String ADMIN = "sk-admin-test";
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

  static String token(GatewayHarness gw) {
    Http.Response r = login(gw, gw.config.appPassword());
    assertThat(r.status()).as(r.body().toString()).isEqualTo(200);
    return r.json().getString("token");
  }

  static int tables(GatewayHarness gw, String token) {
    return http.get(gw.baseUrl + "/api/v1/tables", token).status();
  }

  /** No health checks during the test: what a request meets is the replica itself. */
  static GatewayHarness gateway(java.util.function.UnaryOperator<GatewayConfig> tweak) {
    return GatewayHarness.embedded(c -> tweak.apply(c.withHealth(new GatewayConfig.Health(3_600_000, 500))));
  }

  static JsonObject chat(String model, Object maxTokens) {
    JsonObject body = new JsonObject().put("model", model)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "Hello!")));
    return maxTokens == null ? body : body.put("max_tokens", maxTokens);
  }

  @Test
  void logoutRevokesTheSessionAndAnswersWithSecretsAreNotCached() {
    try (GatewayHarness gw = gateway(c -> c)) {
      Http.Response login = login(gw, gw.config.appPassword());
      assertThat(login.status()).isEqualTo(200);
      assertThat(login.header("cache-control")).isEqualTo("no-store");
      assertThat(login.json().getLong("expires_in")).as("8 h by default").isEqualTo(8 * 3600L);
      String token = login.json().getString("token");
      String other = token(gw);
      assertThat(tables(gw, token)).isEqualTo(200);

      Http.Response out = http.post(gw.baseUrl + "/api/v1/auth/logout", token, "");
      assertThat(out.status()).as(out.body().toString()).isEqualTo(204);
      assertThat(tables(gw, token)).as("revoked").isEqualTo(401);
      assertThat(http.post(gw.baseUrl + "/api/v1/auth/logout", token, "").status()).isEqualTo(401);
      assertThat(tables(gw, other)).as("only that session ended").isEqualTo(200);
      assertThat(http.post(gw.baseUrl + "/api/v1/auth/logout", ADMIN, "").status()).as("nothing to revoke")
          .isEqualTo(204);
      assertThat(tables(gw, ADMIN)).isEqualTo(200);

      Http.Response key = http.post(gw.baseUrl + "/api/v1/generate_api_key", ADMIN,
          new JsonObject().put("user_id", "cache"));
      assertThat(key.status()).isEqualTo(200);
      assertThat(key.header("cache-control")).isEqualTo("no-store");
    }
  }

  @Test
  void theSessionSecretIsKeptSealedAndAnOldClearOneIsSealedOnFirstUse() {
    try (GatewayHarness gw = gateway(c -> c)) {
      var settings = gw.app.services().settings();
      String legacy = "legacy-clear-secret-0123456789abcdef";
      settings.put("jwt_secret", legacy).await(); // as an earlier version stored it
      String token = token(gw);
      String stored = settings.get("jwt_secret").await().orElseThrow();
      assertThat(stored).startsWith("v1:").doesNotContain(legacy);
      assertThat(gw.app.services().models().secrets().open(stored)).isEqualTo(legacy);
      assertThat(tables(gw, token)).isEqualTo(200);
    }
  }

  @Test
  void aChangedConsolePasswordEndsEarlierSessionsAndALogoutHoldsOnEveryInstance() {
    try (GatewayHarness gw = GatewayHarness.mariadb(false, c -> c)) {
      String token = token(gw);
      String loggedOut = token(gw);
      assertThat(http.post(gw.baseUrl + "/api/v1/auth/logout", loggedOut, "").status()).isEqualTo(204);
      try (GatewayHarness sibling = gw.sibling()) {
        assertThat(tables(sibling, token)).as("same password, same signing secret").isEqualTo(200);
        assertThat(tables(sibling, loggedOut)).as("revoked in the shared database").isEqualTo(401);
      }
      GatewayConfig changed = gw.config.withAppPassword("a-new-console-password")
          .withHttp(new GatewayConfig.Http("127.0.0.1", TestServices.freePort(), 2, gw.config.http().maxBodyBytes()));
      try (GatewayHarness after = GatewayHarness.start(changed, null, null)) {
        assertThat(tables(after, token)).as("issued for the old password").isEqualTo(401);
        assertThat(tables(after, token(after))).isEqualTo(200);
      }
      assertThat(tables(gw, token)).as("control: the token itself is fine").isEqualTo(200);
    }
  }

  @Test
  void metricsNeedsATokenOnTheMainPortAndCanMoveToItsOwnPort() {
    try (GatewayHarness gw = gateway(c -> c.withSecurity(c.security().withMetrics("metrics-token-0123", 0,
        "127.0.0.1")))) {
      Http.Response anonymous = http.get(gw.baseUrl + "/metrics", null);
      assertThat(anonymous.status()).isEqualTo(401);
      assertThat(anonymous.header("www-authenticate")).isEqualTo("Bearer");
      assertThat(anonymous.body().toString()).doesNotContain("# TYPE");
      assertThat(http.get(gw.baseUrl + "/metrics", "wrong-token").status()).isEqualTo(401);
      assertThat(http.get(gw.baseUrl + "/metrics", "metrics-token-0123").body().toString()).contains("# TYPE");
      assertThat(http.get(gw.baseUrl + "/metrics", ADMIN).status()).isEqualTo(200);
    }
    int port = TestServices.freePort();
    try (GatewayHarness gw = gateway(c -> c.withSecurity(c.security().withMetrics(null, port, "127.0.0.1")))) {
      Http.Response main = http.get(gw.baseUrl + "/metrics", ADMIN);
      assertThat(main.status()).isNotEqualTo(200);
      assertThat(main.body().toString()).doesNotContain("# TYPE");
      Http.Response own = http.get("http://127.0.0.1:" + port + "/metrics", null);
      assertThat(own.status()).isEqualTo(200);
      assertThat(own.body().toString()).contains("# TYPE");
    }
  }

  @Test
  void aReplicaKeyIsSentByTheGatewayStoredEncryptedAndNeverShown() {
    String secret = "rk-replica-secret-0123456789";
    try (GatewayHarness gw = gateway(c -> c)) {
      String model = "sec/keyed";
      SimulatorVerticle sim = new SimulatorVerticle(0, GatewayHarness.simSettings(model, new JsonObject()),
          "127.0.0.1", secret);
      gw.app.vertx().deployVerticle(sim).await();
      String base = "http://127.0.0.1:" + sim.actualPort();
      assertThat(http.post(base + "/v1/chat/completions", null, chat(model, null)).status())
          .as("the replica refuses anyone without its key").isEqualTo(401);

      long modelId = http.post(gw.baseUrl + "/api/v1/models", ADMIN, new JsonObject().put("name", model)).json()
          .getLong("id");
      Http.Response created = http.post(gw.baseUrl + "/api/v1/models/" + modelId + "/replicas", ADMIN,
          new JsonObject().put("endpoint", base).put("api_key", secret));
      assertThat(created.status()).as(created.body().toString()).isEqualTo(201);
      long replicaId = created.json().getLong("replica_id");
      String userKey = gw.key("sec").plaintext();
      Http.Response ok = http.post(gw.baseUrl + "/v1/chat/completions", userKey, chat(model, null));
      assertThat(ok.status()).as(ok.body().toString()).isEqualTo(200);

      Http.Response listed = http.get(gw.baseUrl + "/api/v1/models/" + modelId + "/replicas", ADMIN);
      assertThat(listed.body().toString()).doesNotContain(secret).contains("\"api_key_set\":true");
      assertThat(http.get(gw.baseUrl + "/api/v1/tables/replicas", ADMIN).body().toString()).doesNotContain(secret)
          .doesNotContain("api_key");
      Row stored = gw.app.services().database().pool().query("SELECT api_key_enc FROM replicas WHERE id = "
          + replicaId).execute().await().iterator().next();
      assertThat(stored.getString("api_key_enc")).startsWith("v1:").doesNotContain(secret);

      // the replica refuses the key the gateway holds: the client learns that, and nothing more
      Http.Response wrong = http.send(HttpMethod.PUT, gw.baseUrl + "/api/v1/models/replicas/" + replicaId, ADMIN,
          "application/json", new JsonObject().put("api_key", "rk-wrong-key-0123").toBuffer());
      assertThat(wrong.status()).as(wrong.body().toString()).isEqualTo(204);
      Http.Response refused = http.post(gw.baseUrl + "/v1/chat/completions", userKey, chat(model, null));
      assertThat(refused.status()).as(refused.body().toString()).isEqualTo(502);
      assertThat(refused.json().getJsonObject("error").getString("code")).isEqualTo("upstream_auth_failed");
      assertThat(refused.body().toString()).doesNotContain("rk-wrong").doesNotContain("127.0.0.1");

      // rotation: the replica's new key, sent here
      http.send(HttpMethod.PUT, gw.baseUrl + "/api/v1/models/replicas/" + replicaId, ADMIN, "application/json",
          new JsonObject().put("api_key", secret).toBuffer());
      assertThat(http.post(gw.baseUrl + "/v1/chat/completions", userKey, chat(model, null)).status()).isEqualTo(200);

      Http.Response badKey = http.post(gw.baseUrl + "/api/v1/models/" + modelId + "/replicas", ADMIN,
          new JsonObject().put("endpoint", "http://127.0.0.1:1").put("api_key", "has spaces; rm"));
      assertThat(badKey.status()).isEqualTo(400);
      assertThat(badKey.json().getJsonObject("errors").fieldNames()).containsExactly("api_key");
    }
  }

  @Test
  void clientErrorsNameNoInternalAddressAndOutOfRangeNumbersAreRefused() {
    try (GatewayHarness gw = gateway(c -> c)) {
      int dead = TestServices.freePort();
      ModelRow model = gw.model("sec/dead");
      gw.replica(model, "http://127.0.0.1:" + dead);
      String userKey = gw.key("sec").plaintext();
      Http.Response r = http.post(gw.baseUrl + "/v1/chat/completions", userKey, chat(model.name(), null));
      assertThat(r.status()).as(r.body().toString()).isEqualTo(502);
      assertThat(r.json().getJsonObject("error").getString("code")).isEqualTo("upstream_unreachable");
      assertThat(r.body().toString()).doesNotContain("127.0.0.1").doesNotContain(Integer.toString(dead))
          .doesNotContain("Connection refused");

      String body = chat(model.name(), 12345).encode().replace("12345", "18446744073709551621"); // 2^64 + 5
      Http.Response huge = http.post(gw.baseUrl + "/v1/chat/completions", userKey, body);
      assertThat(huge.status()).as(huge.body().toString()).isEqualTo(400);
      assertThat(huge.json().getJsonObject("error").getString("param")).isEqualTo("max_tokens");

      Http.Response port = http.post(gw.baseUrl + "/api/v1/models/" + model.id() + "/replicas", ADMIN,
          new JsonObject().put("endpoint", "http://10.0.0.5:99999"));
      assertThat(port.status()).as(port.body().toString()).isEqualTo(400);
      assertThat(port.json().getJsonObject("errors").fieldNames()).containsExactly("endpoint");
    }
  }
}
