package io.inferencegateway.ingress;

import io.inferencegateway.auth.ApiKeys;
import io.inferencegateway.auth.KeyCache;
import io.inferencegateway.store.ApiKeyStore;
import io.inferencegateway.store.Database;
import io.inferencegateway.store.Migrations;
import io.inferencegateway.support.TestServices;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Stage "authenticate" over the key cache (backed by an in-memory database, no server). */
class AuthenticateTest {

  static Vertx vertx;
  static ApiKeyStore store;
  static KeyCache cache;
  static Authenticate stage;
  static final long NOW = Instant.parse("2026-06-01T00:00:00Z").toEpochMilli();

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    Database db = TestServices.freshH2(vertx);
    Migrations.run(vertx, db).await();
    store = new ApiKeyStore(db);
    cache = new KeyCache(store, 100, 30_000, 100, () -> NOW);
    stage = new Authenticate(cache);
  }

  @AfterAll
  static void stop() {
    vertx.close().await();
  }

  static String newKey(boolean enabled, Instant expiresAt) {
    ApiKeys.Generated g = ApiKeys.generate();
    var row = store.insert(new ApiKeyStore.NewApiKey("alice", g.hash(), g.prefix(), 60, null, null, expiresAt)).await();
    if (!enabled) {
      store.setEnabled(row.id(), false).await();
    }
    cache.replaceAll(store.all().await());
    return g.plaintext();
  }

  static IngressFailure refusal(String authorization) {
    ProxyExchange ex = Stages.exchange(Operation.CHAT,
        authorization == null ? Map.of() : Map.of("authorization", authorization));
    var result = stage.apply(ex);
    assertThat(result.failed()).isTrue();
    assertThat(ex.key).isNull();
    return (IngressFailure) result.cause();
  }

  @Test
  void aValidKeyIsOnTheExchangeAtOnce() {
    String key = newKey(true, null);
    ProxyExchange ex = Stages.exchange(Operation.CHAT, Map.of("authorization", "Bearer " + key));
    var result = stage.apply(ex);
    assertThat(result.succeeded()).as("a cached key completes without waiting").isTrue();
    assertThat(ex.key.userId()).isEqualTo("alice");
  }

  @Test
  void eachRefusalIsA401WithItsOwnReason() {
    assertThat(refusal(null).getMessage()).startsWith("You didn't provide an API key");
    assertThat(refusal("Basic abc").getMessage()).startsWith("You didn't provide an API key");
    assertThat(refusal("Bearer " + newKey(false, null)).getMessage()).isEqualTo("This API key has been disabled.");
    assertThat(refusal("Bearer " + newKey(true, Instant.ofEpochMilli(NOW))).getMessage())
        .isEqualTo("This API key has expired.");
    ProxyExchange notYet = Stages.exchange(Operation.CHAT,
        Map.of("authorization", "Bearer " + newKey(true, Instant.ofEpochMilli(NOW + 1000))));
    assertThat(stage.apply(notYet).succeeded()).as("valid until its expiry").isTrue();
  }

  @Test
  void anUnknownKeyIsLookedUpThenRefused() {
    ProxyExchange ex = Stages.exchange(Operation.CHAT, Map.of("authorization", "Bearer sk-nobody"));
    IngressFailure f = (IngressFailure) stage.apply(ex).transform(ar -> io.vertx.core.Future.succeededFuture(ar.cause()))
        .await();
    assertThat(f.status()).isEqualTo(401);
    assertThat(f.code()).isEqualTo("invalid_api_key");
    assertThat(f.getMessage()).isEqualTo("Incorrect API key provided.");
  }
}
