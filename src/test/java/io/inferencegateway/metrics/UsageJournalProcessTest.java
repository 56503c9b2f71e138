package io.inferencegateway.metrics;

import io.inferencegateway.simulator.SimulatorSettings;
import io.inferencegateway.simulator.SimulatorVerticle;
import io.inferencegateway.store.DatabaseUrl;
import io.inferencegateway.support.GatewayProcess;
import io.inferencegateway.support.Http;
import io.inferencegateway.support.Poll;
import io.inferencegateway.support.TcpProxy;
import io.inferencegateway.support.TestServices;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.mysqlclient.MySQLBuilder;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 15's acceptance, with the gateway in a JVM of its own (started as {@code run}) and MariaDB behind a
 * {@link TcpProxy} the test cuts: under load with the database gone, SIGTERM loses no usage record, and SIGKILL loses
 * at most the records of the last group commit; a large journal replays in a 256 MiB heap. A record counts as lost
 * when its request was answered 200 (the client has its {@code x-request-id}) and no row with that id exists once a
 * restarted gateway has replayed the journal into the restored database.
 *
 * <p>System properties: {@code journal.killRuns} (default 1) repeats the SIGKILL case; {@code journal.replayRecords}
 * (default 100,000; the figure is 1,000,000) sizes the replay.
 */
class UsageJournalProcessTest {

  static final String MODEL = "test/journal";
  static final long GROUP_COMMIT_MS = 50;

  Vertx vertx;
  String realUrl;
  DatabaseUrl real;
  TcpProxy proxy;
  Pool check;
  SimulatorVerticle sim;
  Http http;
  Path dataDir;
  String key;
  final List<GatewayProcess> processes = new ArrayList<>();

  @BeforeEach
  void setUp() throws IOException {
    vertx = Vertx.vertx();
    realUrl = TestServices.freshMysqlDatabase(vertx);
    real = DatabaseUrl.parse(realUrl);
    proxy = new TcpProxy(vertx, real.host(), real.port()).start();
    check = MySQLBuilder.pool().connectingTo(new MySQLConnectOptions().setHost(real.host()).setPort(real.port())
        .setUser(real.user()).setPassword(real.password()).setDatabase(real.database())).using(vertx).build();
    sim = new SimulatorVerticle(0, SimulatorSettings.defaults(List.of(MODEL)), "127.0.0.1");
    vertx.deployVerticle(sim).await();
    http = new Http(vertx);
    dataDir = Files.createTempDirectory("igw-journal-process");
  }

  @AfterEach
  void tearDown() {
    for (GatewayProcess p : processes) {
      p.kill();
    }
    proxy.stop();
    http.close();
    check.close().await();
    TestServices.dropMysqlDatabase(vertx, realUrl);
    vertx.close().await();
  }

  String viaProxy() {
    return "mysql://" + real.user() + ":" + real.password() + "@127.0.0.1:" + proxy.port() + "/" + real.database();
  }

  static JsonObject config() {
    return new JsonObject()
        .put("http", new JsonObject().put("host", "127.0.0.1").put("instances", 2))
        .put("usage", new JsonObject().put("journal", new JsonObject().put("groupCommitMs", GROUP_COMMIT_MS)))
        .put("backup", new JsonObject().put("schedule", "off"))
        .put("metrics", new JsonObject().put("rollupSchedule", "off"));
  }

  GatewayProcess start(String name, String dbUrl, List<String> jvm) throws IOException {
    GatewayProcess gw = GatewayProcess.startReady(name, dataDir, dbUrl, config(),
        Map.of("SHUTDOWN_DRAIN_SECONDS", "10"), jvm);
    processes.add(gw);
    return gw;
  }

  /** Clients that keep {@code concurrency} requests going and note the id and time of every 200 answer. */
  final class Load {
    final Map<String, Long> answered = new ConcurrentHashMap<>();
    final AtomicInteger failed = new AtomicInteger();
    final AtomicBoolean running = new AtomicBoolean(true);
    final AtomicInteger active = new AtomicInteger();
    final String url;
    final String key;
    final JsonObject body = new JsonObject().put("model", MODEL)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi")));

    Load(GatewayProcess gw, String key, int concurrency) {
      this.url = gw.baseUrl + "/v1/chat/completions";
      this.key = key;
      for (int i = 0; i < concurrency; i++) {
        active.incrementAndGet();
        next();
      }
    }

    private void next() {
      if (!running.get()) {
        active.decrementAndGet();
        return;
      }
      http.postAsync(url, key, body).onComplete(ar -> {
        if (ar.succeeded() && ar.result().status() == 200) {
          answered.put(ar.result().header("x-request-id"), System.nanoTime());
        } else {
          failed.incrementAndGet();
        }
        if (ar.failed() && !running.get()) {
          active.decrementAndGet();
          return;
        }
        if (ar.succeeded() && ar.result().status() == 200) {
          next();
        } else {
          vertx.setTimer(10, id -> next()); // refused or draining: do not spin
        }
      });
    }

    void stop() {
      running.set(false);
      Poll.until("the load's requests ended", Duration.ofSeconds(60), () -> active.get() == 0);
    }
  }

  Set<String> storedIds() {
    Set<String> out = new HashSet<>();
    for (Row r : check.query("SELECT request_id FROM metrics").execute().await()) {
      out.add(r.getString(0));
    }
    return out;
  }

  long rows() {
    return check.query("SELECT COUNT(*) FROM metrics").execute().await().iterator().next().getLong(0);
  }

  /** Load, the database cut, load on; then {@code stop} ends the gateway. Returns the ids answered and when. */
  Map<String, Long> loadThroughAnOutage(GatewayProcess gw, Runnable stop, long[] stoppedAt) {
    if (key == null) { // the model, replica and key stay in the database for later runs
      key = gw.seed(MODEL, "http://127.0.0.1:" + sim.actualPort());
    }
    Load load = new Load(gw, key, 32);
    Poll.until("answers before the outage", Duration.ofSeconds(60), () -> load.answered.size() >= 2000);
    proxy.stop(); // the database disappears mid-load
    int atCut = load.answered.size();
    Poll.until("answers during the outage", Duration.ofSeconds(60), () -> load.answered.size() >= atCut + 3000);
    stoppedAt[0] = System.nanoTime();
    stop.run();
    Poll.until("the gateway process ended", Duration.ofSeconds(60), () -> !gw.alive());
    load.stop();
    return new ConcurrentHashMap<>(load.answered);
  }

  @Test
  @Timeout(300)
  void sigtermDuringADatabaseOutageLosesNoUsageRecord() throws Exception {
    GatewayProcess gw = start("sigterm", viaProxy(), List.of());
    long[] stoppedAt = new long[1];
    Map<String, Long> answered = loadThroughAnOutage(gw, gw::terminate, stoppedAt);
    assertThat(gw.awaitExit(Duration.ofSeconds(60))).as("exit code after SIGTERM; log: " + gw.log).isEqualTo(0);
    assertThat(gw.logText()).doesNotContain("cacheDir has been removed");

    proxy.start(); // the database is back; a new start replays the journal
    GatewayProcess again = start("sigterm-restart", viaProxy(), List.of());
    Set<String> stored = Poll.value("every answered request stored", Duration.ofSeconds(120), this::storedIds,
        ids -> ids.containsAll(answered.keySet()));
    long lost = answered.keySet().stream().filter(id -> !stored.contains(id)).count();
    System.out.printf("SIGTERM: %d requests answered, %d rows stored, %d lost%n", answered.size(), rows(), lost);
    assertThat(lost).isZero();
    assertThat(rows()).as("no duplicates (request_id is unique)").isEqualTo(stored.size());
    again.terminate();
    assertThat(again.awaitExit(Duration.ofSeconds(60))).isEqualTo(0);
  }

  @Test
  @Timeout(900)
  void sigkillDuringADatabaseOutageLosesAtMostOneGroupCommit() throws Exception {
    int runs = Integer.getInteger("journal.killRuns", 1);
    for (int run = 1; run <= runs; run++) {
      proxy.start();
      GatewayProcess gw = start("sigkill-" + run, viaProxy(), List.of());
      long[] killedAt = new long[1];
      Map<String, Long> answered = loadThroughAnOutage(gw, gw::kill, killedAt);
      proxy.start();
      GatewayProcess again = start("sigkill-restart-" + run, viaProxy(), List.of());
      // the restarted gateway replays; it is done when its journal holds nothing the database lacks
      Poll.until("the replay finished", Duration.ofSeconds(120),
          () -> rows() > 0 && again.metric("gateway_usage_journal_bytes") == 0);
      Set<String> stored = storedIds();
      List<Long> lostAgo = new ArrayList<>();
      for (var e : answered.entrySet()) {
        if (!stored.contains(e.getKey())) {
          lostAgo.add((killedAt[0] - e.getValue()) / 1_000_000);
        }
      }
      long window = GROUP_COMMIT_MS + 10 + 100; // group commit + the ingress's batch interval + scheduling slack
      long inWindow = answered.values().stream().filter(t -> killedAt[0] - t <= window * 1_000_000).count();
      long maxAgo = lostAgo.stream().mapToLong(Long::longValue).max().orElse(0);
      System.out.printf("SIGKILL run %d: %d requests answered, %d lost (answered at most %d ms before the kill);"
              + " %d answered in the last %d ms%n", run, answered.size(), lostAgo.size(), maxAgo, inWindow, window);
      assertThat(lostAgo).as("every lost record was answered within one group commit (+ the batch interval and"
          + " slack) of the kill").allMatch(ms -> ms <= window);
      assertThat((long) lostAgo.size()).isLessThanOrEqualTo(inWindow);
      again.kill();
      again.awaitExit(Duration.ofSeconds(30));
      check.query("DELETE FROM metrics").execute().await();
    }
  }

  @Test
  @Timeout(1800)
  void aLargeJournalReplaysInA256MiBHeap() throws Exception {
    int n = Integer.getInteger("journal.replayRecords", 100_000);
    Path dir = Files.createDirectories(dataDir.resolve("usage-journal"));
    long bytes = 0;
    int perSegment = 200_000;
    for (int seg = 0; seg * perSegment < n; seg++) {
      Path file = dir.resolve(String.format("segment-%016d.jsonl", seg + 1));
      try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
        for (int i = seg * perSegment; i < Math.min(n, (seg + 1) * perSegment); i++) {
          UsageRecord r = new UsageRecord(String.format("00000000-0000-7000-8000-%012d", i), null, MODEL, null,
              "chat/completions", i % 2 == 0, 1_700_000_000_000L + i, 12_000_000, 3_000_000, 12, 20, 32, 200, null,
              null, null);
          w.write(r.toJson().encode());
          w.write('\n');
        }
      }
      bytes += Files.size(file);
    }
    long started = System.nanoTime();
    GatewayProcess gw = start("replay", realUrl, List.of("-Xmx256m"));
    long ready = System.nanoTime();
    Poll.until(n + " rows replayed", Duration.ofMinutes(25), () -> rows() >= n);
    long done = System.nanoTime();
    System.out.printf("Replay: %d records (%d MiB of journal) stored in %.1f s with -Xmx256m (%.1f s to ready)%n", n,
        bytes >> 20, (done - started) / 1e9, (ready - started) / 1e9);
    assertThat(rows()).isEqualTo(n);
    assertThat(gw.logText()).doesNotContain("OutOfMemoryError");
    Poll.until("the journal is emptied", Duration.ofSeconds(30), () -> {
      try (var s = Files.list(dir)) {
        return s.filter(p -> p.getFileName().toString().startsWith("segment-")).count() <= 1;
      } catch (IOException e) {
        return false;
      }
    });
    gw.terminate();
    assertThat(gw.awaitExit(Duration.ofSeconds(60))).isEqualTo(0);
  }
}
