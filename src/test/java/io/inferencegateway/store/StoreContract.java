package io.inferencegateway.store;

import io.inferencegateway.metrics.UsageRecord;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The data layer's contract, run unchanged against MariaDB ({@link MariaDbStoreTest}) and embedded H2
 * ({@link H2StoreTest}): one SQL text must behave the same on both.
 */
@ExtendWith(VertxExtension.class)
abstract class StoreContract {

  protected Vertx vertx;
  protected Database db;

  protected abstract Database openDatabase(Vertx vertx);

  protected void dropDatabase(Vertx vertx) {
  }

  @BeforeEach
  void setUp(Vertx vertx) {
    this.vertx = vertx;
    db = openDatabase(vertx);
    Migrations.run(vertx, db).await();
  }

  @AfterEach
  void tearDown() {
    db.close().await();
    dropDatabase(vertx);
  }

  @Test
  void migrationsRunOnceAndAreRecorded() {
    assertThat(Migrations.run(vertx, db).await()).isZero();
    long applied = db.pool().query("SELECT COUNT(*) FROM schema_migrations").execute().await().iterator().next().getLong(0);
    assertThat(applied).isEqualTo(Migrations.FILES.size());
  }

  @Test
  void apiKeysRoundTripWithTimesAndModels() {
    ApiKeyStore keys = new ApiKeyStore(db);
    Instant expires = Instant.now().plus(3, ChronoUnit.DAYS).truncatedTo(ChronoUnit.MILLIS);
    ApiKeyRow created = keys.insert(new ApiKeyStore.NewApiKey("alice", "a".repeat(64), "sk-abcdefgh", 160, 5000,
        List.of("m1", "m2"), expires)).await();
    assertThat(created.id()).isPositive();

    ApiKeyRow byHash = keys.byHash("a".repeat(64)).await().orElseThrow();
    assertThat(byHash.id()).isEqualTo(created.id());
    assertThat(byHash.userId()).isEqualTo("alice");
    assertThat(byHash.allowedRpm()).isEqualTo(160);
    assertThat(byHash.allowedTpm()).isEqualTo(5000);
    assertThat(byHash.models()).containsExactly("m1", "m2");
    assertThat(byHash.enabled()).isTrue();
    assertThat(byHash.expiresAt()).isEqualTo(expires);
    assertThat(byHash.createdAt()).isCloseTo(Instant.now(), org.assertj.core.api.Assertions.within(1, ChronoUnit.MINUTES));
    assertThat(byHash.lastUsedAt()).isNull();

    ApiKeyRow other = keys.insert(new ApiKeyStore.NewApiKey("bob", "b".repeat(64), "sk-bbbbbbbb", 10, null, null, null))
        .await();
    assertThat(keys.all().await()).extracting(ApiKeyRow::id).containsExactly(created.id(), other.id());
    assertThat(keys.byId(other.id()).await().orElseThrow().models()).isNull();

    assertThat(keys.setEnabled(created.id(), false).await()).isTrue();
    assertThat(keys.byId(created.id()).await().orElseThrow().enabled()).isFalse();

    Instant used = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    keys.touchLastUsed(Set.of(created.id(), other.id()), used).await();
    assertThat(keys.byId(other.id()).await().orElseThrow().lastUsedAt()).isEqualTo(used);

    assertThat(keys.delete(other.id()).await()).isTrue();
    assertThat(keys.delete(other.id()).await()).isFalse();
    assertThat(keys.byHash("b".repeat(64)).await()).isEmpty();
  }

  @Test
  void keyHashesAreUnique() {
    ApiKeyStore keys = new ApiKeyStore(db);
    keys.insert(new ApiKeyStore.NewApiKey("u", "c".repeat(64), "sk-c", 1, null, null, null)).await();
    assertThatThrownBy(() -> keys.insert(new ApiKeyStore.NewApiKey("v", "c".repeat(64), "sk-c", 1, null, null, null))
        .await()).isNotNull();
  }

  @Test
  void replicaKeysAreStoredSealedAndResealedAfterARotation() {
    SecretBox old = SecretBox.of("the-old-secrets-key-0123456789", null);
    ModelStore before = new ModelStore(db, old);
    ModelRow m = before.insertModel("sealed").await();
    long id = before.insertReplica(ModelStore.NewReplica.byEndpoint(m.id(), "http://10.0.0.7:8000", null,
        "rk-stored-key-0123"), List.of()).await();
    assertThat(before.replicaById(id).await().orElseThrow().apiKey()).isEqualTo("rk-stored-key-0123");
    String sealed = db.pool().query("SELECT api_key_enc FROM replicas WHERE id = " + id).execute().await()
        .iterator().next().getString(0);
    assertThat(sealed).startsWith("v1:" + old.keyId() + ":").doesNotContain("rk-stored-key");
    assertThat(before.replicaById(id).await().orElseThrow().toString()).doesNotContain("rk-stored-key");

    SecretBox rotated = SecretBox.of("the-new-secrets-key-0123456789", "the-old-secrets-key-0123456789");
    ModelStore after = new ModelStore(db, rotated);
    assertThat(after.reseal().await()).isEqualTo(1);
    assertThat(after.reseal().await()).as("nothing left to re-seal").isZero();
    assertThat(new ModelStore(db, SecretBox.of("the-new-secrets-key-0123456789", null)).replicaById(id).await()
        .orElseThrow().apiKey()).as("readable with the new key alone").isEqualTo("rk-stored-key-0123");
    assertThat(before.replicaById(id).await().orElseThrow().apiKey())
        .as("the old key alone no longer reads it: no key rather than a failure").isNull();

    assertThat(after.updateApiKey(id, null).await()).isTrue();
    assertThat(after.replicaById(id).await().orElseThrow().apiKey()).isNull();
    assertThatThrownBy(() -> new ModelStore(db).insertReplica(ModelStore.NewReplica.byEndpoint(m.id(),
        "http://10.0.0.8:8000", null, "rk-no-box-0123"), List.of()).await())
        .as("never stored in clear").isNotNull();
  }

  @Test
  void modelsReplicasAndRulesCascadeOnDelete() {
    ModelStore models = new ModelStore(db);
    ModelRow m = models.insertModel("llama").await();
    assertThat(models.modelByName("llama").await()).hasValueSatisfying(found -> {
      assertThat(found.id()).isEqualTo(m.id());
      assertThat(found.name()).isEqualTo("llama");
    });
    assertThatThrownBy(() -> models.insertModel("llama").await()).isNotNull();

    long r1 = models.insertReplica(ModelStore.NewReplica.byEndpoint(m.id(), "http://10.0.0.1:8000", 30), List.of()).await();
    long r2 = models.insertReplica(new ModelStore.NewReplica(m.id(), null, null, null, ReplicaRow.PENDING, "vm-1",
            "n1-RTX-A6000x1", "default-CANADA-1", "Ubuntu", true, "docker run vllm", "key", 8000),
        List.of(new SecurityRuleRow(0, 0, "ingress", "tcp", "IPv4", "1.2.3.4/32", 8000, 8000),
            new SecurityRuleRow(0, 0, "ingress", "tcp", "IPv4", "0.0.0.0/0", 22, 22))).await();

    assertThat(models.replicasOf(m.id()).await()).extracting(ReplicaRow::id).containsExactly(r1, r2);
    ReplicaRow pending = models.replicaById(r2).await().orElseThrow();
    assertThat(pending.vmStatus()).isEqualTo(ReplicaRow.PENDING);
    assertThat(pending.assignFloatingIp()).isTrue();
    assertThat(pending.port()).isEqualTo(8000);
    assertThat(models.securityRules(r2).await()).hasSize(2).first()
        .satisfies(rule -> assertThat(rule.remoteIpPrefix()).isEqualTo("1.2.3.4/32"));
    assertThat(models.endpointExists(m.id(), "http://10.0.0.1:8000").await()).isTrue();
    assertThat(models.endpointExists(m.id(), "http://10.0.0.9:8000").await()).isFalse();
    ModelRow other = models.insertModel("other").await();
    assertThat(models.endpointExists(other.id(), "http://10.0.0.1:8000").await()).as("uniqueness is per model").isFalse();
    assertThat(models.securityRulesOfModel(m.id()).await()).extracting(SecurityRuleRow::replicaId).containsOnly(r2);
    assertThat(models.securityRulesOfModel(other.id()).await()).isEmpty();
    assertThat(models.replicasWithStatus(ReplicaRow.PENDING).await()).extracting(ReplicaRow::id).containsExactly(r2);

    assertThat(models.updateRateLimit(r1, 99).await()).isTrue();
    assertThat(models.replicaById(r1).await().orElseThrow().rateLimit()).isEqualTo(99);
    assertThat(models.updateProvisioning(r2, ReplicaRow.SUCCESS, 4242L, "http://5.6.7.8:8000", null).await()).isTrue();
    ReplicaRow done = models.replicaById(r2).await().orElseThrow();
    assertThat(done.vmId()).isEqualTo(4242L);
    assertThat(done.endpoint()).isEqualTo("http://5.6.7.8:8000");
    assertThat(done.vmStatus()).isEqualTo(ReplicaRow.SUCCESS);

    assertThat(models.deleteReplica(r1).await()).isTrue();
    assertThat(models.deleteModel(m.id()).await()).isTrue();
    assertThat(models.replicas().await()).isEmpty();
    assertThat(models.securityRules(r2).await()).isEmpty();
    assertThat(models.modelById(m.id()).await()).isEmpty();
  }

  @Test
  void usageBatchesAreWrittenOnceEvenWhenRetried() {
    MetricsStore metrics = new MetricsStore(db);
    List<UsageRecord> batch = List.of(record(200, 12, 30), record(200, 5, 7), record(502, 0, 0));
    metrics.insertBatch(batch).await();
    metrics.insertBatch(batch).await(); // the same rows again, as after a timeout with an unknown outcome
    metrics.insertBatch(List.of(batch.get(0), record(429, 0, 0))).await();
    assertThat(metrics.count().await()).isEqualTo(4);
    var row = db.pool().preparedQuery("SELECT prompt_tokens, completion_tokens, total_tokens, status, duration, endpoint,"
            + " stream, created FROM metrics WHERE request_id = ?")
        .execute(io.vertx.sqlclient.Tuple.of(batch.get(0).requestId())).await().iterator().next();
    assertThat(row.getInteger("prompt_tokens")).isEqualTo(12);
    assertThat(row.getInteger("completion_tokens")).isEqualTo(30);
    assertThat(row.getInteger("total_tokens")).isEqualTo(42);
    assertThat(row.getInteger("status")).isEqualTo(200);
    assertThat(row.getDouble("duration")).isEqualTo(0.25);
    assertThat(row.getString("endpoint")).isEqualTo("chat/completions");
    assertThat(SqlValues.bool(row, "stream")).isTrue();
    assertThat(row.getLong("created")).isEqualTo(batch.get(0).startedAtMs() / 1000);
    assertThat(new ApiKeyStore(db).hasUsage(7).await()).isTrue();
    assertThat(new ApiKeyStore(db).hasUsage(8).await()).isFalse();
  }

  @Test
  void usageValuesRoundTripExactlyWhateverTheyContain() {
    // user-controlled text (model names of refused requests, stored prompts and answers, upstream errors) must come
    // back byte for byte and never change the statement; stored prompts at the size the gateway keeps
    // (usage.contentMaxChars, 8192) make a batch span several statements on MariaDB
    String hostile = "it's \"quoted\" \\ back\\slash '); DROP TABLE metrics; -- \n\t\r \u0000 nul";
    String unicode = "héllo wörld 你好 😀 \u00ad";
    String big = (unicode + " " + hostile).repeat(8192 / (unicode.length() + hostile.length() + 1));
    long startedAt = 1_764_270_000_123L;
    List<UsageRecord> batch = new java.util.ArrayList<>(List.of(
        new UsageRecord(UUID.randomUUID().toString(), null, hostile, null, "completions", false, startedAt,
            12_345L, 10_000L, 0, 0, 0, 404, hostile, "", unicode),
        new UsageRecord(UUID.randomUUID().toString(), 9L, unicode, 3L, "chat/completions", true, startedAt + 1,
            3_000_000_000L, -1, 1, 2, 3, 200, null, big, null)));
    for (int i = 0; i < 40; i++) {
      batch.add(new UsageRecord(UUID.randomUUID().toString(), 9L, "m", 3L, "embeddings", false, startedAt + 2 + i,
          1L + i, -1, 5, 0, 5, 200, null, big + i, i + big));
    }
    MetricsStore metrics = new MetricsStore(db);
    metrics.insertBatch(batch).await();
    assertThat(metrics.count().await()).isEqualTo(batch.size());
    for (UsageRecord r : batch) {
      var row = db.pool().preparedQuery("SELECT * FROM metrics WHERE request_id = ?")
          .execute(io.vertx.sqlclient.Tuple.of(r.requestId())).await().iterator().next();
      // compared without printing: a failure message with 8 KB strings helps nobody
      assertThat(java.util.Objects.equals(row.getString("model"), r.model())).as("model").isTrue();
      assertThat(java.util.Objects.equals(row.getString("error"), r.error())).as("error").isTrue();
      assertThat(java.util.Objects.equals(row.getString("input"), r.input()))
          .as("input (%s chars stored)", row.getString("input") == null ? null : row.getString("input").length()).isTrue();
      assertThat(java.util.Objects.equals(row.getString("choices"), r.output())).as("choices").isTrue();
      assertThat(row.getString("endpoint")).isEqualTo(r.endpoint());
      assertThat(row.getValue("api_key_id") == null ? null : row.getLong("api_key_id")).isEqualTo(r.apiKeyId());
      assertThat(row.getValue("replica_id") == null ? null : row.getLong("replica_id")).isEqualTo(r.replicaId());
      assertThat(SqlValues.bool(row, "stream")).isEqualTo(r.stream());
      assertThat(SqlValues.instant(row, "started_at")).isEqualTo(Instant.ofEpochMilli(r.startedAtMs()));
      assertThat(row.getLong("created")).isEqualTo(r.startedAtMs() / 1000);
      assertThat(row.getDouble("duration")).isEqualTo(r.durationNanos() / 1e9);
      if (r.ttftNanos() < 0) {
        assertThat(row.getValue("time_to_first_token")).isNull();
      } else {
        assertThat(row.getDouble("time_to_first_token")).isEqualTo(r.ttftNanos() / 1e9);
      }
      assertThat(row.getInteger("total_tokens")).isEqualTo(r.totalTokens());
      assertThat(row.getInteger("status")).isEqualTo(r.status());
    }
  }

  @Test
  void plainStatementsAfterTransactionsAreCommitted() {
    // regression test: a transaction must not leave its pooled connection with autocommit off
    ModelStore models = new ModelStore(db);
    ModelRow base = models.insertModel("base").await();
    List<io.vertx.core.Future<Long>> txs = new java.util.ArrayList<>();
    for (int i = 0; i < 4; i++) {
      txs.add(models.insertReplica(ModelStore.NewReplica.byEndpoint(base.id(), "http://h:" + i, null), List.of()));
    }
    io.vertx.core.Future.all(txs).await();
    for (int i = 0; i < 8; i++) {
      List<io.vertx.core.Future<?>> busy = new java.util.ArrayList<>();
      for (int k = 0; k < 4; k++) {
        busy.add(db.pool().query("SELECT 1").execute());
      }
      ModelRow m = models.insertModel("m" + i).await();
      io.vertx.core.Future.all(busy).await();
      // a transaction on another connection must see the model (the foreign key would refuse the replica otherwise)
      models.insertReplica(ModelStore.NewReplica.byEndpoint(m.id(), "http://x:" + i, null), List.of()).await();
    }
    assertThat(models.replicas().await()).hasSize(12);
  }

  @Test
  void settingsUpsert() {
    SettingsStore settings = new SettingsStore(db);
    assertThat(settings.get("x").await()).isEmpty();
    assertThat(settings.putIfAbsent("x", "1").await()).isTrue();
    assertThat(settings.putIfAbsent("x", "2").await()).isFalse();
    assertThat(settings.get("x").await()).contains("1");
    settings.put("x", "3").await();
    assertThat(settings.get("x").await()).contains("3");
  }

  @Test
  void tablePagesAreNewestFirstPagedAndNeverSelectSecrets() {
    ApiKeyStore keys = new ApiKeyStore(db);
    for (int i = 0; i < 5; i++) {
      keys.insert(new ApiKeyStore.NewApiKey("u" + i, Character.toString('a' + i).repeat(64), "sk-" + i, 10, null,
          i == 0 ? List.of("m1") : null, null)).await();
    }
    TableStore tables = new TableStore(db);
    TableStore.Page first = tables.page("api_keys", 2, 0, null).await();
    assertThat(first.total()).isEqualTo(5);
    assertThat(first.rows()).extracting(r -> r.getString("user_id")).containsExactly("u4", "u3");
    assertThat(first.rows().get(0).fieldNames()).doesNotContain("key_hash");
    assertThat(first.rows().get(0).getValue("enabled")).isEqualTo(Boolean.TRUE);
    java.time.Instant.parse(first.rows().get(0).getString("created_at"));
    long cursor = first.rows().get(1).getLong("id");
    TableStore.Page next = tables.page("api_keys", 2, 0, cursor).await();
    assertThat(next.rows()).extracting(r -> r.getString("user_id")).containsExactly("u2", "u1");
    assertThat(next.total()).isEqualTo(3);
    assertThat(tables.page("api_keys", 2, 4, null).await().rows().get(0).getJsonArray("models")).containsExactly("m1");
    for (String table : TableStore.TABLES.keySet()) {
      assertThat(tables.page(table, 10, 0, null).await().rows()).as(table).isNotNull();
    }
    assertThatThrownBy(() -> tables.page("gateway_settings", 1, 0, null)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void usageIsBucketedAndGroupedTheSameOnBothDatabases() {
    MetricsStore metrics = new MetricsStore(db);
    long t0 = 1_699_999_200L; // a multiple of 3600
    List<UsageRecord> batch = List.of(
        usage(7L, "a", t0 + 1, 100, 200, 1, 2),
        usage(7L, "a", t0 + 2, 300, 200, 3, 4),
        usage(8L, "b", t0 + 70, 500, 429, 0, 0),
        usage(8L, "a", t0 + 130, 200, 200, 5, 6),
        usage(9L, "a", t0 + 4000, 100, 200, 1, 1)); // outside the range below
    metrics.insertBatch(batch).await();
    assertThat(metrics.countBetween(t0, t0 + 3600).await()).isEqualTo(4);

    List<MetricsStore.BucketTotals> all = metrics.bucketTotals(t0, t0 + 3600, 3600, MetricsStore.GroupBy.NONE).await();
    assertThat(all).hasSize(1);
    assertThat(all.get(0).requests()).isEqualTo(4);
    assertThat(all.get(0).errors()).isEqualTo(1);
    assertThat(all.get(0).promptTokens()).isEqualTo(9);
    assertThat(all.get(0).completionTokens()).isEqualTo(12);
    assertThat(all.get(0).maxDuration()).isEqualTo(0.5);
    assertThat(all.get(0).avgDuration()).isCloseTo(0.275, org.assertj.core.data.Offset.offset(1e-9));

    List<MetricsStore.BucketTotals> byModel = metrics.bucketTotals(t0, t0 + 3600, 60, MetricsStore.GroupBy.MODEL).await();
    assertThat(byModel).extracting(b -> b.bucket() + ":" + b.group() + ":" + b.requests())
        .containsExactlyInAnyOrder((t0 + 1) / 60 + ":a:2", (t0 + 70) / 60 + ":b:1", (t0 + 130) / 60 + ":a:1");
    List<MetricsStore.BucketTotals> byKey = metrics.bucketTotals(t0, t0 + 3600, 3600, MetricsStore.GroupBy.API_KEY).await();
    assertThat(byKey).extracting(b -> ((Number) b.group()).longValue() + ":" + b.requests())
        .containsExactlyInAnyOrder("7:2", "8:2");
    assertThat(metrics.bucketDurations(t0, t0 + 3600, 60, MetricsStore.GroupBy.MODEL).await())
        .extracting(d -> d.bucket() + ":" + d.group() + ":" + d.duration())
        .containsExactlyInAnyOrder((t0 + 1) / 60 + ":a:0.1", (t0 + 2) / 60 + ":a:0.3", (t0 + 70) / 60 + ":b:0.5",
            (t0 + 130) / 60 + ":a:0.2");
  }

  @Test
  void resumedStreamsAreStoredAndCountedPerModel() {
    MetricsStore metrics = new MetricsStore(db);
    long t0 = 1_764_000_000L;
    UsageRecord resumed = new UsageRecord(UUID.randomUUID().toString(), 7L, "a", 1L, "chat/completions", true,
        t0 * 1000, 1_000_000L, -1, 5, 100, 105, 200, null, null, null, 2, "3,1,2");
    List<UsageRecord> batch = List.of(resumed,
        new UsageRecord(UUID.randomUUID().toString(), 7L, "a", 1L, "chat/completions", true, t0 * 1000 + 1,
            1_000_000L, -1, 5, 10, 15, 502, "stream interrupted", null, null, 0, null),
        usage(7L, "a", t0 + 2, 10, 200, 1, 1), // not a stream
        new UsageRecord(UUID.randomUUID().toString(), 7L, "b", 1L, "completions", true, t0 * 1000 + 3,
            1_000_000L, -1, 5, 10, 15, 200, null, null, null, 1, "2,3"));
    metrics.insertBatch(batch).await();
    var row = db.pool().preparedQuery("SELECT resumes, replicas FROM metrics WHERE request_id = ?")
        .execute(io.vertx.sqlclient.Tuple.of(resumed.requestId())).await().iterator().next();
    assertThat(row.getInteger("resumes")).isEqualTo(2);
    assertThat(row.getString("replicas")).isEqualTo("3,1,2");
    assertThat(metrics.resumeTotals(t0, t0 + 60).await()).containsExactly(
        new MetricsStore.ResumeTotals("a", 2, 1, 2, 1), new MetricsStore.ResumeTotals("b", 1, 1, 1, 0));
    assertThat(metrics.resumedRequests(t0, t0 + 60, 10).await()).extracting(MetricsStore.ResumedRequest::replicas)
        .containsExactly("2,3", "3,1,2");
    assertThat(UsageRecord.fromJson(resumed.toJson())).isEqualTo(resumed);
  }

  static UsageRecord usage(Long keyId, String model, long createdSeconds, long durationMs, int status, int prompt,
                           int completion) {
    return new UsageRecord(UUID.randomUUID().toString(), keyId, model, 1L, "chat/completions", false,
        createdSeconds * 1000, durationMs * 1_000_000L, -1, prompt, completion, prompt + completion, status,
        status >= 400 ? "failed" : null, null, null);
  }

  static UsageRecord record(int status, int prompt, int completion) {
    return new UsageRecord(UUID.randomUUID().toString(), 7L, "llama", 1L, "chat/completions", true,
        System.currentTimeMillis(), 250_000_000L, 40_000_000L, prompt, completion, prompt + completion, status,
        status >= 400 ? "failed" : null, null, null);
  }
}
