package io.inferencegateway.admin;

import io.inferencegateway.store.MetricsStore;
import io.inferencegateway.store.MetricsStore.BucketDuration;
import io.inferencegateway.store.MetricsStore.BucketTotals;
import io.inferencegateway.store.MetricsStore.GroupBy;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code GET /usage/series?from=&to=&bucket=&group_by=}: requests, errors, tokens and latency per time bucket, for
 * the console's charts. Every bucket of the range is present (zeros where nothing happened), aligned to multiples of
 * {@code bucket} seconds since the epoch. Latency percentiles are exact (computed from every request's duration)
 * up to {@value #EXACT_LATENCY_MAX_ROWS} requests in the range; above that p50 is the mean and p95 the maximum of the
 * bucket, and {@code latency} says {@code "approximate"}.
 */
final class UsageHandlers {

  static final int EXACT_LATENCY_MAX_ROWS = 50_000;
  static final int MAX_BUCKETS = 10_000;
  static final long DEFAULT_RANGE_SECONDS = 3600;
  static final long DEFAULT_BUCKET_SECONDS = 60;
  static final long MAX_BUCKET_SECONDS = 86_400 * 31L;

  private final AdminContext admin;

  UsageHandlers(AdminContext admin) {
    this.admin = admin;
  }

  Future<?> series(RoutingContext ctx) {
    FieldErrors errors = new FieldErrors();
    long now = System.currentTimeMillis() / 1000;
    Long to = TableHandlers.queryLong(ctx, errors, "to", now + 1, 1L, 1L << 40);
    Long from = TableHandlers.queryLong(ctx, errors, "from", null, 0L, 1L << 40);
    Long bucket = TableHandlers.queryLong(ctx, errors, "bucket", DEFAULT_BUCKET_SECONDS, 1L, MAX_BUCKET_SECONDS);
    String group = ctx.request().getParam("group_by");
    GroupBy groupBy = GroupBy.NONE;
    if (group != null && !group.isEmpty()) {
      switch (group) {
        case "model" -> groupBy = GroupBy.MODEL;
        case "api_key" -> groupBy = GroupBy.API_KEY;
        default -> errors.add("group_by", "Must be one of: model, api_key.");
      }
    }
    errors.throwIfAny();
    long start = from != null ? from : Math.max(0, to - DEFAULT_RANGE_SECONDS);
    if (start >= to) {
      errors.add("from", "Must be less than to.");
    } else if ((to - 1) / bucket - start / bucket + 1 > MAX_BUCKETS) {
      errors.add("bucket", "Too many buckets: at most " + MAX_BUCKETS + " per query; use a larger bucket or a"
          + " shorter range.");
    }
    errors.throwIfAny();
    GroupBy g = groupBy;
    MetricsStore store = admin.services.metricsStore();
    int size = bucket.intValue();
    return store.countBetween(start, to).compose(count -> {
      boolean exact = count <= EXACT_LATENCY_MAX_ROWS;
      Future<List<BucketDuration>> durations = exact && count > 0
          ? store.bucketDurations(start, to, size, g) : Future.succeededFuture(List.of());
      return Future.all(store.bucketTotals(start, to, size, g), durations).compose(all -> AdminContext.json(ctx, 200,
          new JsonObject()
              .put("from", start)
              .put("to", to)
              .put("bucket", size)
              .put("group_by", g == GroupBy.NONE ? null : group)
              .put("latency", exact ? "exact" : "approximate")
              .put("series", series(start, to, size, g, all.resultAt(0), exact ? all.resultAt(1) : null))));
    });
  }

  /** One series per group (one series, group null, without grouping), each with every bucket of the range. */
  static JsonArray series(long from, long to, int bucket, GroupBy groupBy, List<BucketTotals> totals,
                          List<BucketDuration> durations) {
    long first = from / bucket;
    long last = (to - 1) / bucket;
    Map<Object, Map<Long, BucketTotals>> byGroup = new LinkedHashMap<>();
    if (groupBy == GroupBy.NONE) {
      byGroup.put(null, new HashMap<>());
    }
    for (BucketTotals t : totals) {
      byGroup.computeIfAbsent(key(t.group()), k -> new HashMap<>()).put(t.bucket(), t);
    }
    Map<Object, Map<Long, List<Double>>> latencies = new HashMap<>();
    if (durations != null) {
      for (BucketDuration d : durations) {
        latencies.computeIfAbsent(key(d.group()), k -> new HashMap<>())
            .computeIfAbsent(d.bucket(), k -> new ArrayList<>()).add(d.duration());
      }
    }
    JsonArray out = new JsonArray();
    for (Map.Entry<Object, Map<Long, BucketTotals>> e : byGroup.entrySet()) {
      JsonArray points = new JsonArray();
      Map<Long, List<Double>> groupLatencies = latencies.getOrDefault(e.getKey(), Map.of());
      for (long b = first; b <= last; b++) {
        BucketTotals t = e.getValue().get(b);
        JsonObject p = new JsonObject().put("t", b * bucket);
        if (t == null) {
          p.put("requests", 0).put("errors", 0).put("prompt_tokens", 0).put("completion_tokens", 0)
              .putNull("latency_p50").putNull("latency_p95");
        } else {
          p.put("requests", t.requests()).put("errors", t.errors()).put("prompt_tokens", t.promptTokens())
              .put("completion_tokens", t.completionTokens());
          List<Double> values = groupLatencies.get(b);
          if (durations != null && values != null && !values.isEmpty()) {
            double[] sorted = values.stream().mapToDouble(Double::doubleValue).toArray();
            Arrays.sort(sorted);
            p.put("latency_p50", percentile(sorted, 0.50)).put("latency_p95", percentile(sorted, 0.95));
          } else {
            p.put("latency_p50", t.avgDuration()).put("latency_p95", t.maxDuration());
          }
        }
        points.add(p);
      }
      out.add(new JsonObject().put("group", e.getKey()).put("points", points));
    }
    return out;
  }

  /** Groups compare by value whatever number type the driver returned (Integer or Long ids). */
  private static Object key(Object group) {
    return group instanceof Number n ? (Object) n.longValue() : group;
  }

  /** Nearest-rank percentile of sorted values. */
  static double percentile(double[] sorted, double p) {
    int rank = (int) Math.ceil(p * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }
}
