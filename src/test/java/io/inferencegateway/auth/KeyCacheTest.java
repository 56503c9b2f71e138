package io.inferencegateway.auth;

import io.inferencegateway.store.ApiKeyRow;
import io.inferencegateway.store.ApiKeyStore;
import io.inferencegateway.store.Database;
import io.inferencegateway.store.Migrations;
import io.inferencegateway.support.TestServices;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The in-memory key cache over an in-memory database, on an injected clock. */
class KeyCacheTest {

  Vertx vertx;
  ApiKeyStore store;
  final AtomicLong now = new AtomicLong(Instant.parse("2026-06-01T00:00:00Z").toEpochMilli());
  KeyCache cache;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    Database db = TestServices.freshH2(vertx);
    Migrations.run(vertx, db).await();
    store = new ApiKeyStore(db);
    cache = new KeyCache(store, 2, 30_000, 3, now::get);
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  record Stored(String plaintext, ApiKeyRow row) {}

  Stored insert(Instant expiresAt) {
    ApiKeys.Generated g = ApiKeys.generate();
    return new Stored(g.plaintext(),
        store.insert(new ApiKeyStore.NewApiKey("u", g.hash(), g.prefix(), 60, null, null, expiresAt)).await());
  }

  KeyCheck.Outcome check(String token) {
    return cache.check(token).await().outcome();
  }

  @Test
  void aKnownKeyIsJudgedFromMemory() {
    Stored k = insert(Instant.ofEpochMilli(now.get() + 1000));
    cache.replaceAll(List.of(k.row()));
    var check = cache.check(k.plaintext());
    assertThat(check.succeeded()).as("answered without a query").isTrue();
    assertThat(check.result().key().id()).isEqualTo(k.row().id());
    now.addAndGet(1000);
    assertThat(check(k.plaintext())).isEqualTo(KeyCheck.Outcome.EXPIRED);
    assertThat(check(null)).isEqualTo(KeyCheck.Outcome.MISSING);
  }

  @Test
  void aKeyCreatedElsewhereIsFoundOnceThenServedFromMemory() {
    Stored k = insert(null);
    assertThat(check(k.plaintext())).isEqualTo(KeyCheck.Outcome.VALID);
    store.delete(k.row().id()).await();
    assertThat(check(k.plaintext())).as("now cached: the database is not asked again").isEqualTo(KeyCheck.Outcome.VALID);
    cache.remove(k.row().id());
    assertThat(check(k.plaintext())).isEqualTo(KeyCheck.Outcome.UNKNOWN);
  }

  @Test
  void unknownKeysAreRememberedForTheirTimeToLive() {
    Stored later = insert(null);
    assertThat(check(later.plaintext())).isEqualTo(KeyCheck.Outcome.VALID);
    String unknown = "sk-unknown";
    assertThat(check(unknown)).isEqualTo(KeyCheck.Outcome.UNKNOWN);
    // the unknown key appears in the database (created by another instance) without telling this one
    String hash = ApiKeys.sha256Hex(unknown);
    store.insert(new ApiKeyStore.NewApiKey("u", hash, "sk-unknow", 60, null, null, null)).await();
    assertThat(check(unknown)).as("negatively cached").isEqualTo(KeyCheck.Outcome.UNKNOWN);
    now.addAndGet(30_001);
    assertThat(check(unknown)).as("looked up again after the negative entry expired").isEqualTo(KeyCheck.Outcome.VALID);
  }

  @Test
  void databaseLookUpsOfUnknownKeysAreRateLimitedPerSecond() {
    // keys this instance has not cached yet: only a database look-up can find them
    for (int i = 0; i < 3; i++) {
      Stored k = insert(null);
      assertThat(check(k.plaintext())).as("look-up %d goes to the database", i).isEqualTo(KeyCheck.Outcome.VALID);
    }
    Stored k = insert(null);
    var fourth = cache.check(k.plaintext());
    assertThat(fourth.isComplete()).as("fourth miss in the second: answered without the database").isTrue();
    assertThat(fourth.result().outcome()).isEqualTo(KeyCheck.Outcome.UNKNOWN);
    now.addAndGet(1000);
    assertThat(check(k.plaintext())).isEqualTo(KeyCheck.Outcome.VALID);
  }

  @Test
  void changesReplaceTheSnapshot() {
    Stored k = insert(null);
    cache.replaceAll(List.of(k.row()));
    ApiKeyRow disabled = new ApiKeyRow(k.row().id(), "u", k.row().keyHash(), k.row().keyPrefix(), 60, null, null, false,
        null, k.row().createdAt(), null);
    cache.upsert(disabled);
    assertThat(check(k.plaintext())).isEqualTo(KeyCheck.Outcome.DISABLED);
  }
}
