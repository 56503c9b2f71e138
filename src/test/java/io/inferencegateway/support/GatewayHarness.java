package io.inferencegateway.support;

import io.inferencegateway.ControlPlane;
import io.inferencegateway.GatewayApp;
import io.inferencegateway.auth.ApiKeys;
import io.inferencegateway.config.Addresses;
import io.inferencegateway.config.ConfigLoader;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.simulator.SimulatorSettings;
import io.inferencegateway.simulator.SimulatorVerticle;
import io.inferencegateway.store.ApiKeyRow;
import io.inferencegateway.store.ApiKeyStore;
import io.inferencegateway.store.ModelRow;
import io.inferencegateway.store.ModelStore;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * A real gateway (its own Vertx, real HTTP on a free port) and helpers to seed it the way the admin API would:
 * rows in the database, then the caches brought up to date. Tests drive it over HTTP.
 */
public final class GatewayHarness implements AutoCloseable {

  public final GatewayApp app;
  public final GatewayConfig config;
  public final String baseUrl;
  private final String mysqlUrl;
  private final Vertx helperVertx;

  private GatewayHarness(GatewayApp app, GatewayConfig config, String mysqlUrl, Vertx helperVertx) {
    this.app = app;
    this.config = config;
    this.baseUrl = "http://127.0.0.1:" + app.port();
    this.mysqlUrl = mysqlUrl;
    this.helperVertx = helperVertx;
  }

  /** Default test settings: random port, two event loops, fast usage flushes, given storage. */
  public static GatewayConfig baseConfig(String databaseUrl, String redisUrl) {
    try {
      Path dataDir = Files.createTempDirectory("igw-test");
      GatewayConfig c = GatewayConfig.fromJson(ConfigLoader.bundledDefaults())
          // a short drain: a test that leaves a request hanging does not wait 30 s for its gateway to stop
          .withHttp(new GatewayConfig.Http("127.0.0.1", TestServices.freePort(), 2, 1024 * 1024, 5))
          .withAdminApiKey("sk-admin-test")
          .withAppPassword("console-test-password")
          .withDatabase(new GatewayConfig.Database(databaseUrl, dataDir.toString(), 4))
          .withRedis(new GatewayConfig.Redis(redisUrl, "local", 250,
              "igw-test-" + java.util.UUID.randomUUID().toString().substring(0, 8)))
          .withHealth(new GatewayConfig.Health(500, 500));
      // no scheduled backups or roll-ups in the middle of unrelated tests (their own tests schedule them)
      c = c.withBackup(c.backup().withSchedule("off"))
          .withRetention(new GatewayConfig.Retention(c.retention().retentionDays(), null,
              c.retention().deleteBatchRows(), c.retention().deletePauseMs()));
      GatewayConfig.Usage u = c.usage();
      return c.withUsage(new GatewayConfig.Usage(u.batchSize(), 50, u.memoryBufferRecords(), false, u.contentMaxChars()));
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A gateway on the embedded H2 database (file under a temp dir), no Redis. */
  public static GatewayHarness embedded(UnaryOperator<GatewayConfig> tweak) {
    return start(tweak.apply(baseConfig(null, null)), null, null);
  }

  /** As {@link #embedded(UnaryOperator)}, on a clock the test moves. */
  public static GatewayHarness embedded(UnaryOperator<GatewayConfig> tweak, java.time.Clock clock) {
    GatewayConfig config = tweak.apply(baseConfig(null, null));
    return new GatewayHarness(GatewayApp.start(config, GatewayApp.AdminKeyPolicy.GENERATE_ONCE,
        ControlPlane.mounter(config), clock).await(), config, null, null);
  }

  /** A gateway on a fresh MariaDB database, optionally with Redis. */
  public static GatewayHarness mariadb(boolean redis, UnaryOperator<GatewayConfig> tweak) {
    Vertx helper = Vertx.vertx();
    String url = TestServices.freshMysqlDatabase(helper);
    return start(tweak.apply(baseConfig(url, redis ? TestServices.redisUrl() : null)), url, helper);
  }

  public static GatewayHarness start(GatewayConfig config, String mysqlUrl, Vertx helper) {
    return new GatewayHarness(startApp(config), config, mysqlUrl, helper);
  }

  /** The gateway as {@code run} starts it: with the control plane (admin API) mounted. */
  private static GatewayApp startApp(GatewayConfig config) {
    return GatewayApp.start(config, GatewayApp.AdminKeyPolicy.GENERATE_ONCE, ControlPlane.mounter(config)).await();
  }

  /** A second gateway instance sharing this one's database and Redis. */
  public GatewayHarness sibling() {
    GatewayConfig c = config.withHttp(new GatewayConfig.Http("127.0.0.1", TestServices.freePort(), 2,
        config.http().maxBodyBytes()));
    return new GatewayHarness(startApp(c), c, null, null);
  }

  /** Starts a simulator in the gateway's Vertx (port 0 = any) and returns it. */
  public SimulatorVerticle simulator(int port, SimulatorSettings settings) {
    SimulatorVerticle sim = new SimulatorVerticle(port, settings, "127.0.0.1");
    app.vertx().deployVerticle(sim).await();
    return sim;
  }

  public static SimulatorSettings simSettings(String model, JsonObject patch) {
    return SimulatorSettings.defaults(List.of(model)).merge(patch);
  }

  public ModelRow model(String name) {
    ModelStore models = app.services().models();
    ModelRow m = models.modelByName(name).await().orElseGet(() -> models.insertModel(name).await());
    reloadModels();
    return m;
  }

  public long replica(ModelRow model, String endpoint) {
    long id = app.services().models().insertReplica(ModelStore.NewReplica.byEndpoint(model.id(), endpoint, null), List.of())
        .await();
    reloadModels();
    return id;
  }

  /** Announces a model change, as the admin API does, and waits until this gateway has applied it. */
  public void reloadModels() {
    app.services().announcements().publish(Addresses.MODELS_CHANGED, new JsonObject()).await();
  }

  public record Key(String plaintext, ApiKeyRow row) {}

  public Key key(String user, int rpm, Integer tpm, List<String> models, Instant expiresAt) {
    ApiKeys.Generated g = ApiKeys.generate();
    ApiKeyRow row = app.services().apiKeys()
        .insert(new ApiKeyStore.NewApiKey(user, g.hash(), g.prefix(), rpm, tpm, models, expiresAt)).await();
    app.services().announcements().publish(Addresses.KEYS_CHANGED, new JsonObject().put("id", row.id())).await();
    return new Key(g.plaintext(), row);
  }

  public Key key(String user) {
    return key(user, 100_000, null, null, null);
  }

  /** Waits until the metrics table holds at least {@code n} rows, or the timeout passes; returns the count. */
  public long awaitUsageRows(long n, long timeoutMs) {
    return Poll.value(n + " usage rows", java.time.Duration.ofMillis(timeoutMs),
        () -> app.services().metricsStore().count().await(), count -> count >= n);
  }

  @Override
  public void close() {
    app.close().await();
    if (mysqlUrl != null && helper() != null) {
      TestServices.dropMysqlDatabase(helper(), mysqlUrl);
      helper().close().await();
    }
  }

  private Vertx helper() {
    return helperVertx;
  }
}
