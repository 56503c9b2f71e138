package io.inferencegateway.retention;

import io.inferencegateway.support.Poll;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.metrics.UsageRecord;
import io.inferencegateway.store.Database;
import io.inferencegateway.store.MetricsStore;
import io.inferencegateway.store.UsageRollupStore;
import io.inferencegateway.support.GatewayHarness;
import io.inferencegateway.support.Http;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.UUID;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The usage roll-up against a real database, MariaDB ({@link RetentionMariaDbTest}) and embedded H2
 * ({@link RetentionH2Test}): hourly aggregates equal the rows they replace (counted here independently), the usage
 * series over the old range is what it was before, and crashes, late rows and double runs count every row once.
 */
abstract class RetentionContract {

  static final String ADMIN = "sk-admin-test";
  static final int DAYS = 30;
  static final String[] MODELS = {"m/alpha", "m/beta", null};
  static final Long[] KEYS = {1L, 2L, null};
  static final int[] STATUSES = {200, 200, 200, 200, 429, 500};

  protected GatewayHarness gw;
  protected Database db;
  protected Vertx vertx;
  protected Http http;
  protected final List<UsageRecord> seeded = new ArrayList<>();
  protected long firstOldHour;

  protected abstract GatewayHarness start();

  @BeforeEach
  void setUp() {
    gw = start();
    db = gw.app.services().database();
    vertx = gw.app.vertx();
    http = new Http(vertx);
    firstOldHour = Math.floorDiv(Instant.now().minus(Duration.ofDays(40)).getEpochSecond(), 3600) * 3600;
  }

  @AfterEach
  void tearDown() {
    http.close();
    gw.close();
  }

  GatewayConfig.Retention settings(int batchRows) {
    return new GatewayConfig.Retention(DAYS, "17 * * * *", batchRows, 0);
  }

  UsageRollup rollup(int batchRows) {
    return new UsageRollup(vertx, new UsageRollupStore(db), settings(batchRows));
  }

  /** Usage rows at random seconds of the given hours, every mix of key, model and status; returns them. */
  List<UsageRecord> seed(Random random, long fromHour, int hours, int perHour) {
    List<UsageRecord> out = new ArrayList<>();
    for (int h = 0; h < hours; h++) {
      for (int i = 0; i < perHour + random.nextInt(perHour); i++) {
        long startedMs = (fromHour + h * 3600L) * 1000 + random.nextInt(3_600_000);
        int status = STATUSES[random.nextInt(STATUSES.length)];
        int prompt = random.nextInt(500);
        int completion = status == 200 ? random.nextInt(300) : 0;
        out.add(new UsageRecord(UUID.randomUUID().toString(), KEYS[random.nextInt(KEYS.length)],
            MODELS[random.nextInt(MODELS.length)], 1L, "chat/completions", false, startedMs,
            10_000_000L + random.nextInt(4_000_000) * 1000L, -1, prompt, completion, prompt + completion, status,
            status == 200 ? null : "error", null, null));
      }
    }
    for (int from = 0; from < out.size(); from += 200) {
      gw.app.services().metricsStore().insertBatch(out.subList(from, Math.min(out.size(), from + 200))).await();
    }
    seeded.addAll(out);
    return out;
  }

  // ---- the expected figures, computed here from the seeded records

  record Expected(long requests, long errors, long prompt, long completion, double durationSum, double durationMax,
                  double p50, double p95) {}

  static double seconds(UsageRecord r) {
    return r.durationNanos() / 1e9;
  }

  static double nearestRank(List<Double> values, double p) {
    double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    int index = (int) Math.ceil(p * sorted.length) - 1;
    return sorted[Math.max(0, index)];
  }

  static Map<List<Object>, Expected> expected(List<UsageRecord> rows, Function<UsageRecord, List<Object>> key) {
    Map<List<Object>, List<UsageRecord>> groups = new HashMap<>();
    for (UsageRecord r : rows) {
      groups.computeIfAbsent(key.apply(r), k -> new ArrayList<>()).add(r);
    }
    Map<List<Object>, Expected> out = new HashMap<>();
    groups.forEach((k, rs) -> {
      List<Double> durations = rs.stream().map(RetentionContract::seconds).toList();
      out.put(k, new Expected(rs.size(), rs.stream().filter(r -> r.status() >= 400).count(),
          rs.stream().mapToLong(UsageRecord::promptTokens).sum(),
          rs.stream().mapToLong(UsageRecord::completionTokens).sum(),
          durations.stream().mapToDouble(Double::doubleValue).sum(),
          durations.stream().mapToDouble(Double::doubleValue).max().orElseThrow(),
          nearestRank(durations, 0.50), nearestRank(durations, 0.95)));
    });
    return out;
  }

  static long hourOf(UsageRecord r) {
    return Math.floorDiv(r.startedAtMs() / 1000, 3600) * 3600;
  }

  static List<Object> keyOf(Object... parts) {
    return Arrays.asList(parts);
  }

  /** The stored aggregates at one grouping, keyed like {@link #expected}. */
  Map<List<Object>, Expected> stored(String groupedBy) {
    Map<List<Object>, Expected> out = new HashMap<>();
    for (Row r : db.pool().preparedQuery("SELECT * FROM metrics_hourly WHERE grouped_by = ?")
        .execute(Tuple.of(groupedBy)).await()) {
      Object key = r.getValue("api_key_id") == null ? null : ((Number) r.getValue("api_key_id")).longValue();
      List<Object> k = switch (groupedBy) {
        case "key_model" -> keyOf(r.getLong("hour_start"), key, r.getString("model"));
        case "model" -> keyOf(r.getLong("hour_start"), r.getString("model"));
        case "api_key" -> keyOf(r.getLong("hour_start"), key);
        default -> keyOf(r.getLong("hour_start"));
      };
      Expected e = new Expected(r.getLong("requests"), r.getLong("errors"), r.getLong("prompt_tokens"),
          r.getLong("completion_tokens"), r.getDouble("duration_sum"), r.getDouble("duration_max"),
          r.getDouble("latency_p50"), r.getDouble("latency_p95"));
      assertThat(out.put(k, e)).as("one aggregate per hour and group: " + k).isNull();
    }
    return out;
  }

  static void assertSame(Map<List<Object>, Expected> actual, Map<List<Object>, Expected> expected) {
    assertThat(actual.keySet()).isEqualTo(expected.keySet());
    expected.forEach((k, e) -> {
      Expected a = actual.get(k);
      assertThat(a.requests()).as("requests " + k).isEqualTo(e.requests());
      assertThat(a.errors()).as("errors " + k).isEqualTo(e.errors());
      assertThat(a.prompt()).as("prompt tokens " + k).isEqualTo(e.prompt());
      assertThat(a.completion()).as("completion tokens " + k).isEqualTo(e.completion());
      assertThat(a.durationSum()).as("duration sum " + k).isCloseTo(e.durationSum(), within(1e-6));
      assertThat(a.durationMax()).as("duration max " + k).isEqualTo(e.durationMax());
      assertThat(a.p50()).as("p50 " + k).isEqualTo(e.p50());
      assertThat(a.p95()).as("p95 " + k).isEqualTo(e.p95());
    });
  }

  JsonObject series(long from, long to, int bucket, String groupBy) {
    Http.Response r = http.get(gw.baseUrl + "/api/v1/usage/series?from=" + from + "&to=" + to + "&bucket=" + bucket
        + (groupBy == null ? "" : "&group_by=" + groupBy), ADMIN);
    assertThat(r.status()).as(r.body().toString()).isEqualTo(200);
    return r.json();
  }

  /** Series points by group, with numbers normalised (ids as longs, figures as doubles) for comparison. */
  static Map<Object, List<Map<String, Object>>> points(JsonObject series, String... fields) {
    Map<Object, List<Map<String, Object>>> out = new HashMap<>();
    for (Object o : series.getJsonArray("series")) {
      JsonObject s = (JsonObject) o;
      Object group = s.getValue("group") instanceof Number n ? n.longValue() : s.getValue("group");
      List<Map<String, Object>> pts = new ArrayList<>();
      for (Object p : s.getJsonArray("points")) {
        JsonObject point = (JsonObject) p;
        Map<String, Object> m = new HashMap<>();
        m.put("t", point.getLong("t"));
        for (String f : fields) {
          Object v = point.getValue(f);
          m.put(f, v instanceof Number n ? n.doubleValue() : v);
        }
        pts.add(m);
      }
      out.put(group, pts);
    }
    return out;
  }

  long count(String sql, Object... params) {
    return ((Number) db.pool().preparedQuery(sql).execute(Tuple.from(params)).await().iterator().next().getValue(0))
        .longValue();
  }

  @Test
  void hourlyAggregatesEqualTheRowsTheyReplaceAndTheSeriesIsUnchanged() {
    Random random = new Random(7);
    List<UsageRecord> old = seed(random, firstOldHour, 5, 40);
    List<UsageRecord> recent = seed(random, Math.floorDiv(Instant.now().getEpochSecond(), 3600) * 3600 - 86_400, 2, 20);
    long from = firstOldHour;
    long oldEnd = firstOldHour + 5 * 3600;
    long now = Instant.now().getEpochSecond() + 1;
    String[] all = {"requests", "errors", "prompt_tokens", "completion_tokens", "latency_p50", "latency_p95"};
    String[] sums = {"requests", "errors", "prompt_tokens", "completion_tokens"};
    Map<String, Map<Object, List<Map<String, Object>>>> hourlyBefore = new HashMap<>();
    for (String g : new String[] {null, "model", "api_key"}) {
      JsonObject s = series(from, oldEnd, 3600, g);
      assertThat(s.getString("latency")).isEqualTo("exact");
      hourlyBefore.put(String.valueOf(g), points(s, all));
    }
    Map<Object, List<Map<String, Object>>> dailyBefore = points(series(from - 86_400 * 2, now, 86_400, "model"), sums);

    UsageRollup.Result result = rollup(7).run(Instant.now()).await();
    assertThat(result.hours()).isEqualTo(5);
    assertThat(result.rowsRolledUp()).isEqualTo(old.size());
    assertThat(result.rowsDeleted()).isEqualTo(old.size());

    assertSame(stored("key_model"), expected(old, r -> keyOf(hourOf(r), r.apiKeyId(), r.model())));
    assertSame(stored("model"), expected(old, r -> keyOf(hourOf(r), r.model())));
    assertSame(stored("api_key"), expected(old, r -> keyOf(hourOf(r), r.apiKeyId())));
    assertSame(stored("none"), expected(old, r -> keyOf(hourOf(r))));
    assertThat(count("SELECT COUNT(*) FROM metrics WHERE created < ?", UsageRollup.cutoff(Instant.now(), DAYS)))
        .as("old rows deleted").isZero();
    assertThat(count("SELECT COUNT(*) FROM metrics")).as("recent rows kept").isEqualTo(recent.size());
    assertThat(count("SELECT SUM(rows_rolled) FROM metrics_rollups")).isEqualTo(old.size());
    assertThat(count("SELECT COUNT(*) FROM metrics_rollups")).isEqualTo(5);

    for (String g : new String[] {null, "model", "api_key"}) {
      JsonObject s = series(from, oldEnd, 3600, g);
      assertThat(s.getString("latency")).as("one rolled-up hour per bucket: exact").isEqualTo("exact");
      assertThat(points(s, all)).as("hourly series grouped by " + g).isEqualTo(hourlyBefore.get(String.valueOf(g)));
    }
    JsonObject daily = series(from - 86_400 * 2, now, 86_400, "model");
    assertThat(points(daily, sums)).as("daily series over old and recent usage").isEqualTo(dailyBefore);
    assertThat(daily.getString("latency")).isEqualTo("approximate");

    UsageRollup.Result again = rollup(7).run(Instant.now()).await();
    assertThat(again).isEqualTo(new UsageRollup.Result(0, 0, 0));
    assertSame(stored("none"), expected(old, r -> keyOf(hourOf(r))));
  }

  @Test
  void aRunInterruptedAfterStoringAnHourIsFinishedByTheNextWithoutCountingTwice() {
    List<UsageRecord> old = seed(new Random(11), firstOldHour, 1, 50);
    UsageRollupStore store = new UsageRollupStore(db);
    // what a run does before deleting, then "crashes": aggregates and guard stored, raw rows still there
    long[] range = store.idRange(firstOldHour, 0).await();
    HourAggregator aggregator = new HourAggregator(firstOldHour);
    store.rows(firstOldHour, 0, range[1]).await().forEach(aggregator::add);
    assertThat(store.commit(firstOldHour, null, range[1], aggregator.rows(), aggregator.aggregates()).await()).isTrue();
    assertThat(count("SELECT COUNT(*) FROM metrics")).isEqualTo(old.size());

    JsonObject during = series(firstOldHour, firstOldHour + 3600, 3600, null);
    assertThat(points(during, "requests").get(null).get(0).get("requests")).as("not counted twice meanwhile")
        .isEqualTo((double) old.size());

    UsageRollup.Result result = rollup(9).run(Instant.now()).await();
    assertThat(result.rowsRolledUp()).isZero();
    assertThat(result.rowsDeleted()).isEqualTo(old.size());
    assertThat(count("SELECT COUNT(*) FROM metrics")).isZero();
    assertSame(stored("none"), expected(old, r -> keyOf(hourOf(r))));
    assertSame(stored("key_model"), expected(old, r -> keyOf(hourOf(r), r.apiKeyId(), r.model())));
  }

  @Test
  void rowsWrittenLaterForARolledUpHourAreRolledUpByTheNextRun() {
    List<UsageRecord> old = seed(new Random(13), firstOldHour, 1, 30);
    rollup(1000).run(Instant.now()).await();
    List<UsageRecord> late = seed(new Random(14), firstOldHour, 1, 2);
    assertThat(count("SELECT COUNT(*) FROM metrics")).isEqualTo(late.size());

    UsageRollup.Result result = rollup(1000).run(Instant.now()).await();
    assertThat(result.rowsRolledUp()).isEqualTo(late.size());
    assertThat(count("SELECT COUNT(*) FROM metrics")).isZero();
    assertThat(count("SELECT SUM(requests) FROM metrics_hourly WHERE grouped_by = 'none'"))
        .isEqualTo(old.size() + late.size());
    assertThat(count("SELECT SUM(prompt_tokens) FROM metrics_hourly WHERE grouped_by = 'key_model'"))
        .isEqualTo(seeded.stream().mapToLong(UsageRecord::promptTokens).sum());
    JsonObject s = series(firstOldHour, firstOldHour + 3600, 3600, null);
    assertThat(points(s, "requests").get(null).get(0).get("requests")).isEqualTo((double) (old.size() + late.size()));
    assertThat(s.getString("latency")).as("two aggregates in one bucket").isEqualTo("approximate");
  }

  @Test
  void anHourWhoseRowsAreFarApartInIdIsReadWhole() {
    List<UsageRecord> early = seed(new Random(21), firstOldHour, 1, 20);
    seed(new Random(22), Math.floorDiv(Instant.now().getEpochSecond(), 3600) * 3600 - 3600, 1, 6000);
    List<UsageRecord> late = seed(new Random(23), firstOldHour, 1, 3); // ids more than two read windows further on
    List<UsageRecord> old = new ArrayList<>(early);
    old.addAll(late);
    UsageRollup.Result result = rollup(1000).run(Instant.now()).await();
    assertThat(result.rowsRolledUp()).isEqualTo(old.size());
    assertSame(stored("key_model"), expected(old, r -> keyOf(hourOf(r), r.apiKeyId(), r.model())));
  }

  @Test
  void twoRunsAtOnceCountEveryRowOnce() {
    List<UsageRecord> old = seed(new Random(17), firstOldHour, 3, 40);
    List<Future<UsageRollup.Result>> runs = List.of(rollup(5).run(Instant.now()), rollup(5).run(Instant.now()));
    Future.join(runs).await();
    assertThat(count("SELECT COUNT(*) FROM metrics")).isZero();
    assertSame(stored("none"), expected(old, r -> keyOf(hourOf(r))));
    assertSame(stored("key_model"), expected(old, r -> keyOf(hourOf(r), r.apiKeyId(), r.model())));
  }

  @Test
  void theJobRollsUpOnItsSchedule() throws InterruptedException {
    List<UsageRecord> old = seed(new Random(19), firstOldHour, 2, 20);
    Instant now = Instant.now();
    Instant slot = now.truncatedTo(java.time.temporal.ChronoUnit.HOURS).plus(Duration.ofMinutes(17));
    if (!slot.isAfter(now.plusSeconds(2))) {
      slot = slot.plus(Duration.ofHours(1));
    }
    Clock clock = Clock.offset(Clock.systemUTC(), Duration.between(now, slot.minusSeconds(1)));
    vertx.deployVerticle(new RetentionVerticle(db, settings(1000), gw.app.services().prometheus(), clock)).await();
    Poll.until("the scheduled run rolled up and deleted the old rows", Duration.ofSeconds(30),
        () -> count("SELECT COUNT(*) FROM metrics_rollups") >= 2 && count("SELECT COUNT(*) FROM metrics") == 0);
    assertThat(count("SELECT COUNT(*) FROM metrics")).isZero();
    assertSame(stored("none"), expected(old, r -> keyOf(hourOf(r))));
    String metrics = http.get(gw.baseUrl + "/metrics", gw.config.adminApiKey()).body().toString();
    assertThat(metrics).contains("gateway_usage_rows_rolled_up_total " + (double) old.size());
    assertThat(Objects.requireNonNull(metrics)).contains("gateway_usage_rollup_last_success_timestamp_seconds");
  }

}
