package io.inferencegateway.backup;

import io.inferencegateway.config.ConfigLoader;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.metrics.UsageRecord;
import io.inferencegateway.store.BackupStore;
import io.inferencegateway.store.Database;
import io.inferencegateway.store.MetricsStore;
import io.inferencegateway.store.Migrations;
import io.inferencegateway.support.S3MockServer;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Backups and restores against a real database: MariaDB through mysqldump and the mariadb client
 * ({@link BackupMariaDbTest}), the embedded H2 database through SCRIPT and RUNSCRIPT ({@link BackupH2Test}).
 */
@ExtendWith(VertxExtension.class)
abstract class BackupContract {

  static final String HOSTILE = "ünïcødé 'single' \"double\" \\back\\slash\n\tnew line; DROP TABLE metrics; -- 🚀 \u0000end";

  protected Vertx vertx;
  protected Path dataDir;
  protected GatewayConfig config;
  protected Database db;
  private final List<Runnable> cleanups = new ArrayList<>();

  /** A new empty database: its DATABASE_URL, or null for the embedded one (under the data directory). */
  protected abstract String newDatabase(Vertx vertx);

  protected abstract void dropDatabase(Vertx vertx, String url);

  @BeforeEach
  void setUp(Vertx vertx) throws Exception {
    this.vertx = vertx;
    config = configFor(newDatabase(vertx));
    db = Database.create(vertx, config.database());
    Migrations.run(vertx, db).await();
  }

  @AfterEach
  void tearDown() {
    db.close().await();
    cleanups.forEach(Runnable::run);
    if (config.database().url() != null) {
      dropDatabase(vertx, config.database().url());
    }
  }

  GatewayConfig configFor(String url) throws Exception {
    Path dir = Files.createTempDirectory("igw-backup-test");
    if (dataDir == null) {
      dataDir = dir;
    }
    if (url != null && config != null) { // another database than the test's own (dropped in tearDown)
      cleanups.add(() -> dropDatabase(vertx, url));
    }
    return GatewayConfig.fromJson(ConfigLoader.bundledDefaults())
        .withDatabase(new GatewayConfig.Database(url, dir.toString(), 4));
  }

  static UsageRecord record(String input) {
    return new UsageRecord(UUID.randomUUID().toString(), 7L, "m/model", 3L, "chat/completions", true,
        System.currentTimeMillis(), 123_456_789L, 2_000_000L, 11, 22, 33, 200, null, input, "answer " + input);
  }

  /** Inserts batches of usage rows until stopped; remembers each row once its batch committed. */
  final class Load {
    final List<String> committed = java.util.Collections.synchronizedList(new ArrayList<>());
    final AtomicBoolean stop = new AtomicBoolean();
    final Promise<Void> done = Promise.promise();
    final MetricsStore store = new MetricsStore(db);

    Load start() {
      vertx.runOnContext(v -> next());
      return this;
    }

    private void next() {
      if (stop.get()) {
        done.complete();
        return;
      }
      List<UsageRecord> batch = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        batch.add(record("load"));
      }
      store.insertBatch(batch).onComplete(ar -> {
        if (ar.failed()) {
          done.fail(ar.cause());
          return;
        }
        batch.forEach(r -> committed.add(r.requestId()));
        next();
      });
    }

    List<String> snapshot() {
      synchronized (committed) {
        return new ArrayList<>(committed);
      }
    }

    void stop() {
      stop.set(true);
      done.future().await();
    }
  }

  BackupService service(GatewayConfig c, Database database) {
    WorkerExecutor worker = vertx.createSharedWorkerExecutor("test-backup", 1, 10, TimeUnit.MINUTES);
    return new BackupService(database, c, worker, Clock.systemUTC());
  }

  @Test
  void aBackupTakenUnderLoadRestoresEveryRowCommittedBeforeItStartedAndItsUploadIsByteIdentical() throws Exception {
    S3MockServer s3 = S3MockServer.shared();
    String prefix = "test-" + UUID.randomUUID() + "/";
    GatewayConfig c = config.withBackup(config.backup().withS3(new GatewayConfig.S3(s3.endpoint(), "us-east-1",
        S3MockServer.BUCKET, prefix, true, "test-key", "test-secret", 64L << 20)));
    MetricsStore metrics = new MetricsStore(db);
    UsageRecord hostile = record(HOSTILE);
    metrics.insertBatch(List.of(hostile)).await();
    for (int i = 0; i < 40; i++) { // enough rows for the dump to take a while
      List<UsageRecord> batch = new ArrayList<>();
      for (int j = 0; j < 500; j++) {
        batch.add(record("seed " + i + "/" + j));
      }
      metrics.insertBatch(batch).await();
    }

    Load load = new Load().start();
    while (load.snapshot().size() < 200) {
      Thread.sleep(10);
    }
    List<String> before = load.snapshot();
    BackupOutcome outcome = service(c, db).take(BackupOutcome.COMMAND, Instant.now(), 1).await();
    int duringOrAfter = load.snapshot().size() - before.size();
    load.stop();
    assertThat(outcome.error()).isNull();
    assertThat(outcome.succeeded()).isTrue();
    assertThat(duringOrAfter).as("rows were being inserted while the backup ran").isPositive();

    Path file = c.backup().directory(c.database().dataDir()).resolve(outcome.fileName());
    assertThat(file).exists();
    assertThat(outcome.fileName()).matches("inference-gateway-(mariadb|h2)-\\d{8}T\\d{6}Z\\.sql\\.gz");
    assertThat(outcome.sizeBytes()).isEqualTo(Files.size(file));
    assertThat(outcome.sha256()).isEqualTo(BackupFiles.sha256(file));
    assertThat(c.backup().directory(c.database().dataDir()).toFile().list()).as("no .part file left")
        .containsExactly(outcome.fileName());

    // the upload: present under the prefix, byte for byte the local file
    assertThat(outcome.s3Key()).isEqualTo(prefix + outcome.fileName());
    try (S3Client client = S3Client.builder().httpClientBuilder(UrlConnectionHttpClient.builder())
        .endpointOverride(URI.create(s3.endpoint())).forcePathStyle(true).region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("a", "b"))).build()) {
      byte[] uploaded = client.getObjectAsBytes(b -> b.bucket(S3MockServer.BUCKET).key(outcome.s3Key())).asByteArray();
      assertThat(uploaded).isEqualTo(Files.readAllBytes(file));
      assertThat(client.headObject(b -> b.bucket(S3MockServer.BUCKET).key(outcome.s3Key())).metadata())
          .containsEntry("sha256", outcome.sha256());
    }

    // restored into a fresh database: every row committed before the backup started, intact
    GatewayConfig fresh = configFor(newDatabase(vertx));
    Database restored = Database.create(vertx, fresh.database());
    try {
      Restore.Result result = Restore.run(vertx, restored, fresh, file, false).await();
      assertThat(result.tables()).isGreaterThanOrEqualTo(10);
      Set<String> ids = new HashSet<>();
      for (Row r : restored.pool().query("SELECT request_id FROM metrics").execute().await()) {
        ids.add(r.getString(0));
      }
      assertThat(ids).hasSize((int) result.usageRows());
      assertThat(ids).containsAll(before).contains(hostile.requestId());
      assertThat(ids.size()).isGreaterThanOrEqualTo(20_001 + before.size())
          .isLessThanOrEqualTo(20_001 + load.snapshot().size());
      Row row = restored.pool().preparedQuery("SELECT input, choices, prompt_tokens, duration, api_key_id, model"
          + " FROM metrics WHERE request_id = ?").execute(io.vertx.sqlclient.Tuple.of(hostile.requestId())).await()
          .iterator().next();
      assertThat(row.getString("input")).isEqualTo(HOSTILE);
      assertThat(row.getString("choices")).isEqualTo("answer " + HOSTILE);
      assertThat(row.getInteger("prompt_tokens")).isEqualTo(11);
      assertThat(((Number) row.getValue("duration")).doubleValue()).isEqualTo(0.123456789);
      assertThat(row.getString("model")).isEqualTo("m/model");
      // the restored database is a working gateway database: migrations find nothing to do
      assertThat(Migrations.run(vertx, restored).await()).isZero();
    } finally {
      restored.close().await();
    }
  }

  record Run(int status, String out, String err) {}

  Run command(String command, Map<String, String> env, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
    PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
    int status = command.equals("backup") ? BackupCommand.backup(args, env, o, e) : BackupCommand.restore(args, env, o, e);
    return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  static Map<String, String> env(GatewayConfig c) {
    Map<String, String> env = new HashMap<>();
    env.put("DATA_DIR", c.database().dataDir());
    if (c.database().url() != null) {
      env.put("DATABASE_URL", c.database().url());
    }
    return env;
  }

  @Test
  void theCommandsBackUpAndRestoreRefusingANonEmptyDatabaseWithoutForce() throws Exception {
    MetricsStore metrics = new MetricsStore(db);
    UsageRecord kept = record("in the backup");
    metrics.insertBatch(List.of(kept)).await();

    Run backup = command("backup", env(config));
    assertThat(backup.status()).as(backup.err()).isZero();
    assertThat(backup.out()).contains("Backup written: ");
    List<BackupOutcome> recorded = new BackupStore(db).list(10, null).await();
    assertThat(recorded).hasSize(1);
    BackupOutcome o = recorded.get(0);
    assertThat(o.triggeredBy()).isEqualTo("command");
    assertThat(o.succeeded()).isTrue();
    assertThat(o.attempt()).isEqualTo(1);
    assertThat(o.s3Key()).isNull();
    Path file = config.backup().directory(config.database().dataDir()).resolve(o.fileName());
    assertThat(file).exists().hasSize(o.sizeBytes());

    UsageRecord later = record("after the backup");
    metrics.insertBatch(List.of(later)).await();
    Run refused = command("restore", env(config), file.toString());
    assertThat(refused.status()).isEqualTo(2);
    assertThat(refused.err()).contains("not empty").contains("--force").contains("metrics");
    assertThat(metrics.count().await()).as("nothing was touched").isEqualTo(2);

    Run forced = command("restore", env(config), "--force", file.toString());
    assertThat(forced.status()).as(forced.err()).isZero();
    assertThat(forced.out()).contains("Restored").contains("1 usage rows");
    Set<String> ids = new HashSet<>();
    for (Row r : db.pool().query("SELECT request_id FROM metrics").execute().await()) {
      ids.add(r.getString(0));
    }
    assertThat(ids).containsExactly(kept.requestId());
    assertThat(new BackupStore(db).list(10, null).await()).as("the backup's own state: taken before its record")
        .isEmpty();

    GatewayConfig fresh = configFor(newDatabase(vertx));
    Run intoFresh = command("restore", env(fresh), file.toString());
    assertThat(intoFresh.status()).as(intoFresh.err()).isZero();

    Run notABackup = command("restore", env(fresh), "--force", Files.writeString(dataDir.resolve("x.sql.gz"), "hello")
        .toString());
    assertThat(notABackup.status()).isEqualTo(2);
    assertThat(notABackup.err()).contains("not a gzip file");
    assertThat(command("restore", env(fresh)).status()).as("no file named").isEqualTo(2);
  }

  /** Waits for a future on the test thread (tests only). */
  static <T> T await(Future<T> f) {
    return f.await();
  }
}
