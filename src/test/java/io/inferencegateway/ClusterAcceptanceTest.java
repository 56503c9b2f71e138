package io.inferencegateway;

import io.inferencegateway.config.ConfigLoader;
import io.inferencegateway.simulator.SimulatorVerticle;
import io.inferencegateway.store.DatabaseUrl;
import io.inferencegateway.support.GatewayHarness;
import io.inferencegateway.support.GatewayProcess;
import io.inferencegateway.support.Http;
import io.inferencegateway.support.Poll;
import io.inferencegateway.support.TestServices;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.mysqlclient.MySQLBuilder;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Cluster mode's acceptance: three gateway processes on loopback ({@code Main run} in child JVMs, Hazelcast TCP member
 * list on 127.0.0.1) sharing one MariaDB database and one Redis, in front of two simulated vLLM replicas. Keys made or
 * deleted through one instance hold on the others, a key's limit holds over the three, a conversation lands on one
 * replica whichever instance it goes through, and when the leader is killed with kill -9 another member takes its
 * jobs over while usage rows stay exactly one per request. The measured times are printed ({@code [cluster]} lines).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterAcceptanceTest {

  static final String ADMIN = "sk-admin-cluster-test";
  static final String MODEL = "test/cluster";
  static final long HEALTH_INTERVAL_MS = 500;
  static final long LEADER_RETRY_MS = 2000;

  static Vertx vertx;
  static Http http;
  static String databaseUrl;
  static Pool db;
  static final List<GatewayProcess> gateways = new ArrayList<>();
  static final List<SimulatorVerticle> sims = new ArrayList<>();
  static final List<Long> replicaIds = new ArrayList<>();
  static long modelId;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    http = new Http(vertx);
    String redis = TestServices.redisUrl();
    databaseUrl = TestServices.freshMysqlDatabase(vertx);
    DatabaseUrl u = DatabaseUrl.parse(databaseUrl);
    db = MySQLBuilder.pool().with(new PoolOptions().setMaxSize(2))
        .connectingTo(new MySQLConnectOptions().setHost(u.host()).setPort(u.port()).setUser(u.user())
            .setPassword(u.password()).setDatabase(u.database()))
        .using(vertx).build();

    JsonObject config = ConfigLoader.bundledDefaults();
    config.getJsonObject("http").put("host", "127.0.0.1").put("instances", 1);
    config.getJsonObject("usage").put("flushIntervalMs", 50);
    config.getJsonObject("health").put("intervalMs", HEALTH_INTERVAL_MS).put("timeoutMs", 500);
    // a generous Redis timeout: on a busy test machine a slow answer would make the limiter fall back to local limits
    config.getJsonObject("redis").put("keyPrefix", "igw-cluster-" + UUID.randomUUID().toString().substring(0, 8))
        .put("timeoutMs", 2000).put("onFailure", "closed");
    config.getJsonObject("backup").put("schedule", "off");
    config.getJsonObject("database").put("poolSize", 4);
    config.getJsonObject("cluster").put("leaderRetryMs", LEADER_RETRY_MS);
    Path dir = Files.createTempDirectory("igw-cluster");
    Path configFile = dir.resolve("config.json");
    Files.writeString(configFile, config.encodePrettily());

    int[] clusterPorts = new int[3];
    List<String> members = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      clusterPorts[i] = freePortPair();
      members.add("127.0.0.1:" + clusterPorts[i]);
    }
    String[] names = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
      Map<String, String> env = new HashMap<>();
      env.put("ADMIN_API_KEY", ADMIN);
      env.put("APP_PASSWORD", "cluster-test-password");
      env.put("DATABASE_URL", databaseUrl);
      env.put("DATA_DIR", Files.createDirectories(dir.resolve(names[i])).toString());
      env.put("REDIS_URL", redis);
      env.put("CLUSTER_MEMBERS", String.join(",", members));
      env.put("CLUSTER_HOST", "127.0.0.1");
      env.put("CLUSTER_PORT", Integer.toString(clusterPorts[i]));
      gateways.add(GatewayProcess.start("cluster-" + names[i], configFile, TestServices.freePort(), env));
      if (i == 0) {
        awaitUp(gateways.get(0)); // the first one runs the migrations alone
      }
    }
    for (GatewayProcess g : gateways) {
      awaitUp(g);
    }
    for (GatewayProcess g : gateways) {
      Poll.until(g.name + " sees three members and a leader", Duration.ofSeconds(60), () -> {
        JsonObject c = cluster(g);
        return c.getJsonArray("members").size() == 3 && c.getString("leader") != null;
      });
    }

    // the model and its two replicas, through A's admin API: B and C learn them from the announcement
    modelId = admin(HttpMethod.POST, a().baseUrl + "/api/v1/models", new JsonObject().put("name", MODEL))
        .getLong("id");
    for (int i = 0; i < 2; i++) {
      int port = TestServices.freePort();
      SimulatorVerticle sim = new SimulatorVerticle(port, GatewayHarness.simSettings(MODEL, new JsonObject()
          .put("interTokenMs", 1)), "127.0.0.1");
      vertx.deployVerticle(sim).await();
      sims.add(sim);
      replicaIds.add(admin(HttpMethod.POST, a().baseUrl + "/api/v1/models/" + modelId + "/replicas",
          new JsonObject().put("endpoint", "http://127.0.0.1:" + port)).getLong("replica_id"));
    }
  }

  @AfterAll
  static void stop() throws Exception {
    for (GatewayProcess g : gateways) {
      g.close();
    }
    if (db != null) {
      db.close().await();
    }
    if (databaseUrl != null) {
      TestServices.dropMysqlDatabase(vertx, databaseUrl);
    }
    if (http != null) {
      http.close();
    }
    if (vertx != null) {
      vertx.close().await();
    }
  }

  static GatewayProcess a() {
    return gateways.get(0);
  }

  static GatewayProcess b() {
    return gateways.get(1);
  }

  static GatewayProcess c() {
    return gateways.get(2);
  }

  @Test
  @Order(1)
  void theThreeInstancesAgreeOnMembersAndOneLeader() {
    Set<String> leaders = new HashSet<>();
    for (GatewayProcess g : gateways) {
      JsonObject c = cluster(g);
      assertThat(c.getBoolean("enabled")).isTrue();
      assertThat(c.getJsonArray("members")).hasSize(3);
      long selves = c.getJsonArray("members").stream().map(JsonObject.class::cast)
          .filter(m -> m.getBoolean("self")).count();
      assertThat(selves).isEqualTo(1);
      long flagged = c.getJsonArray("members").stream().map(JsonObject.class::cast)
          .filter(m -> m.getBoolean("leader")).count();
      assertThat(flagged).isEqualTo(1);
      leaders.add(c.getString("leader"));
    }
    assertThat(leaders).hasSize(1);
  }

  @Test
  @Order(2)
  void aKeyMadeOnAWorksOnBAndCAtOnceAndDeletedOnBIsRefusedByAAndCWithinASecond() {
    JsonObject created = admin(HttpMethod.POST, a().baseUrl + "/api/v1/generate_api_key",
        new JsonObject().put("user_id", "cluster-alice").put("allowed_rpm", 100_000));
    String key = created.getString("api_key");
    long createdAt = System.nanoTime();
    // no waiting: the very first request through B and C must pass
    assertThat(models(b(), key)).isEqualTo(200);
    long onB = (System.nanoTime() - createdAt) / 1_000_000;
    assertThat(models(c(), key)).isEqualTo(200);
    long onC = (System.nanoTime() - createdAt) / 1_000_000;
    System.out.printf("[cluster] key created on A: first request accepted by B %d ms and by C %d ms after the create"
        + " call returned%n", onB, onC);
    assertThat(chat(b(), key, "hello from b", null).status()).isEqualTo(200);
    assertThat(chat(c(), key, "hello from c", null).status()).isEqualTo(200);
    assertThat(models(a(), key)).isEqualTo(200);

    admin(HttpMethod.POST, b().baseUrl + "/api/v1/delete_api_key",
        new JsonObject().put("user_id", "cluster-alice").put("api_key_id", created.getLong("id")));
    long deletedAt = System.nanoTime();
    assertThat(models(b(), key)).as("refused at once where it was deleted").isIn(401, 403);
    long refusedA = refusedWithin(a(), key, deletedAt);
    long refusedC = refusedWithin(c(), key, deletedAt);
    System.out.printf("[cluster] key deleted on B: refused by A after %d ms, by C after %d ms%n", refusedA, refusedC);
    assertThat(refusedA).isLessThan(1000);
    assertThat(refusedC).isLessThan(1000);
    assertThat(chat(a(), key, "after delete", null).status()).isIn(401, 403);
  }

  /** Polls GET /v1/models with the key until it is refused; returns the milliseconds since {@code since}. */
  static long refusedWithin(GatewayProcess g, String key, long since) {
    Poll.until(g.name + " refuses the deleted key", Duration.ofSeconds(5), () -> models(g, key) != 200);
    return (System.nanoTime() - since) / 1_000_000;
  }

  @Test
  @Order(3)
  void aLimitOfNRequestsAMinuteLetsExactlyNThroughOverTheThree() {
    int limit = 6;
    String key = admin(HttpMethod.POST, b().baseUrl + "/api/v1/generate_api_key",
        new JsonObject().put("user_id", "cluster-bob").put("allowed_rpm", limit)).getString("api_key");
    Map<String, Integer> passedOn = new HashMap<>();
    int passed = 0;
    int limited = 0;
    long start = System.nanoTime();
    for (int i = 0; i < 15; i++) {
      GatewayProcess g = gateways.get(i % 3);
      int status = chat(g, key, "limited " + i, null).status();
      if (status == 200) {
        passed++;
        passedOn.merge(g.name, 1, Integer::sum);
      } else {
        assertThat(status).isEqualTo(429);
        limited++;
      }
    }
    long elapsedMs = (System.nanoTime() - start) / 1_000_000;
    // the bucket refills by limit/60 a second: the count is exact only if the burst is over before one more request
    // a minute could have come back
    assertThat(elapsedMs).as("burst duration").isLessThan(60_000 / limit);
    System.out.printf("[cluster] limit %d/min over three instances: %d passed (%s), %d got 429, in %d ms%n", limit,
        passed, passedOn, limited, elapsedMs);
    assertThat(passed).isEqualTo(limit);
    assertThat(limited).isEqualTo(15 - limit);
    assertThat(passedOn).hasSize(3);
  }

  @Test
  @Order(4)
  void oneConversationLandsOnTheSameReplicaFromEveryInstance() {
    String key = admin(HttpMethod.POST, a().baseUrl + "/api/v1/generate_api_key",
        new JsonObject().put("user_id", "cluster-carol").put("allowed_rpm", 100_000)).getString("api_key");
    Set<Integer> replicasUsed = new HashSet<>();
    for (int conversation = 0; conversation < 8; conversation++) {
      Set<Integer> landed = new HashSet<>();
      for (GatewayProcess g : gateways) {
        long[] before = chats();
        assertThat(chat(g, key, "conversation " + conversation, "user-" + conversation).status()).isEqualTo(200);
        long[] after = chats();
        for (int r = 0; r < sims.size(); r++) {
          if (after[r] > before[r]) {
            landed.add(r);
          }
        }
      }
      assertThat(landed).as("replicas conversation %d landed on from A, B and C", conversation).hasSize(1);
      replicasUsed.addAll(landed);
    }
    assertThat(replicasUsed).as("the conversations are spread over both replicas").hasSize(2);
  }

  @Test
  @Order(5)
  void whenTheLeaderIsKilledAnotherTakesItsJobsOverAndNoUsageRowIsLostOrDoubled() throws Exception {
    String key = admin(HttpMethod.POST, c().baseUrl + "/api/v1/generate_api_key",
        new JsonObject().put("user_id", "cluster-dave").put("allowed_rpm", 100_000)).getString("api_key");
    long before = settledUsageRows();
    for (int i = 0; i < 30; i++) {
      assertThat(chat(gateways.get(i % 3), key, "before the kill " + i, null).status()).isEqualTo(200);
    }
    Poll.until("the 30 usage rows are stored", Duration.ofSeconds(10), () -> usageRows()[0] == before + 30);

    String leaderName = cluster(a()).getString("leader");
    GatewayProcess leader = gateways.stream().filter(g -> leaderName.endsWith(":" + clusterPortOf(g)))
        .findFirst().orElseThrow();
    List<GatewayProcess> survivors = gateways.stream().filter(g -> g != leader).toList();
    leader.kill9();
    long killedAt = System.nanoTime();
    GatewayProcess survivor = survivors.get(0);
    JsonObject after = Poll.value("a new leader", Duration.ofSeconds(30), () -> cluster(survivor),
        c -> c.getJsonArray("members").size() == 2 && c.getString("leader") != null
            && !c.getString("leader").equals(leaderName));
    long failoverMs = (System.nanoTime() - killedAt) / 1_000_000;
    System.out.printf("[cluster] leader %s killed with kill -9: %s leads after %d ms%n", leaderName,
        after.getString("leader"), failoverMs);
    assertThat(failoverMs).isLessThan(LEADER_RETRY_MS + 10_000);
    for (GatewayProcess g : survivors) {
      assertThat(cluster(g).getString("leader")).isEqualTo(after.getString("leader"));
    }

    // the leader's job of checking health resumed: a replica that dies now is seen down by both survivors
    vertx.undeploy(sims.get(1).deploymentID()).await();
    long stoppedAt = System.nanoTime();
    for (GatewayProcess g : survivors) {
      Poll.until(g.name + " sees replica 2 down", Duration.ofSeconds(10), () -> !healthy(g, replicaIds.get(1)));
    }
    System.out.printf("[cluster] after the fail-over, a replica stopped is seen down by both survivors after %d ms"
        + " (health interval %d ms)%n", (System.nanoTime() - stoppedAt) / 1_000_000, HEALTH_INTERVAL_MS);

    for (int i = 0; i < 20; i++) {
      assertThat(chat(survivors.get(i % 2), key, "after the kill " + i, null).status()).isEqualTo(200);
    }
    Poll.until("the 20 further usage rows are stored", Duration.ofSeconds(10), () -> usageRows()[0] == before + 50);
    Thread.sleep(500); // nothing further may arrive: no row is written twice
    long[] rows = usageRows();
    assertThat(rows[0]).isEqualTo(before + 50);
    assertThat(rows[1]).as("distinct request ids").isEqualTo(rows[0]);
  }

  // ---- helpers

  static int clusterPortOf(GatewayProcess g) {
    JsonObject c = cluster(g);
    String self = c.getString("self");
    return Integer.parseInt(self.substring(self.lastIndexOf(':') + 1));
  }

  static JsonObject cluster(GatewayProcess g) {
    Http.Response r = http.get(g.baseUrl + "/api/v1/cluster", ADMIN);
    assertThat(r.status()).as(g.name + " GET /api/v1/cluster").isEqualTo(200);
    return r.json();
  }

  static boolean healthy(GatewayProcess g, long replicaId) {
    Http.Response r = http.get(g.baseUrl + "/api/v1/models/" + modelId + "/replicas", ADMIN);
    for (Object o : new JsonArray(r.body())) {
      JsonObject replica = (JsonObject) o;
      if (replica.getLong("id") == replicaId) {
        return replica.getJsonObject("state").getBoolean("healthy");
      }
    }
    throw new AssertionError("no replica " + replicaId);
  }

  static JsonObject admin(HttpMethod method, String url, JsonObject body) {
    Http.Response r = http.send(method, url, ADMIN, "application/json", body.toBuffer());
    assertThat(r.status()).as(method + " " + url + ": " + r.body()).isBetween(200, 201);
    return r.json();
  }

  static Http.Response chat(GatewayProcess g, String key, String prompt, String user) {
    JsonObject body = new JsonObject().put("model", MODEL).put("max_tokens", 4)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", prompt)));
    if (user != null) {
      body.put("user", user);
    }
    return http.post(g.baseUrl + "/v1/chat/completions", key, body);
  }

  static int models(GatewayProcess g, String key) {
    return http.get(g.baseUrl + "/v1/models", key).status();
  }

  static long[] chats() {
    long[] out = new long[sims.size()];
    for (int i = 0; i < sims.size(); i++) {
      out[i] = sims.get(i).stats().byPath().getOrDefault("/v1/chat/completions", 0L);
    }
    return out;
  }

  /** The row count once the rows of earlier requests are all written (two reads 300 ms apart agree). */
  static long settledUsageRows() {
    long[] last = {-1, System.nanoTime()};
    return Poll.value("usage rows to settle", Duration.ofSeconds(10), () -> {
      long n = usageRows()[0];
      if (n != last[0]) {
        last[0] = n;
        last[1] = System.nanoTime();
      }
      return System.nanoTime() - last[1] >= 300_000_000L ? n : -1L;
    }, n -> n >= 0);
  }

  /** Rows in {@code metrics}, and distinct request ids among them. */
  static long[] usageRows() {
    Row row = db.query("SELECT COUNT(*) AS n, COUNT(DISTINCT request_id) AS d FROM metrics").execute().await()
        .iterator().next();
    return new long[] {row.getLong("n"), row.getLong("d")};
  }

  static void awaitUp(GatewayProcess g) {
    Poll.until(g.name + " answers /health (log " + g.log + ")", Duration.ofSeconds(120), () -> {
      if (!g.alive()) {
        throw new AssertionError(g.name + " exited:\n" + g.tail());
      }
      try {
        return http.get(g.baseUrl + "/health", null).status() == 200;
      } catch (Exception notYet) { // connection refused while it starts
        return false;
      }
    });
  }

  /** A free port whose next port is free too (the event bus takes CLUSTER_PORT + 1). */
  static int freePortPair() {
    for (int attempt = 0; attempt < 50; attempt++) {
      int p = TestServices.freePort();
      if (p < 65534 && TestServices.reachable("127.0.0.1", p + 1) == false && bindable(p + 1)) {
        return p;
      }
    }
    throw new IllegalStateException("no free pair of ports");
  }

  private static boolean bindable(int port) {
    try (java.net.ServerSocket s = new java.net.ServerSocket(port)) {
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }
}
