package io.inferencegateway.admin;

import io.inferencegateway.metrics.Percentiles;
import io.inferencegateway.store.MetricsStore;
import io.inferencegateway.store.MetricsStore.BucketDuration;
import io.inferencegateway.store.MetricsStore.BucketTotals;
import io.inferencegateway.store.MetricsStore.GroupBy;
import io.inferencegateway.store.MetricsStore.HourlyTotals;
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
 * bucket, and {@code latency} says {@code "approximate"}. Hours rolled up by the retention job (usage older than
 * {@code metrics.retentionDays}) come from their hourly aggregates, in the same shape (see {@link #series}).
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

  /**
   * {@code GET /usage/resumed?from=&to=}: streams in the range per model, how many were resumed on another replica
   * (and how often), how many still failed, and the latest resumed requests with the replicas of their legs.
   */
  Future<?> resumed(RoutingContext ctx) {
    FieldErrors errors = new FieldErrors();
    long now = System.currentTimeMillis() / 1000;
    Long to = TableHandlers.queryLong(ctx, errors, "to", now + 1, 1L, 1L << 40);
    Long from = TableHandlers.queryLong(ctx, errors, "from", null, 0L, 1L << 40);
    errors.throwIfAny();
    long start = from != null ? from : Math.max(0, to - DEFAULT_RANGE_SECONDS * 24);
    if (start >= to) {
      errors.add("from", "Must be less than to.");
    }
    errors.throwIfAny();
    MetricsStore store = admin.services.metricsStore();
    Future<List<MetricsStore.ResumeTotals>> totals = store.resumeTotals(start, to);
    Future<List<MetricsStore.ResumedRequest>> recent = store.resumedRequests(start, to, 50);
    return Future.all(totals, recent).compose(all -> {
      JsonArray models = new JsonArray();
      long streams = 0;
      long resumedStreams = 0;
      long resumes = 0;
      long failed = 0;
      for (MetricsStore.ResumeTotals t : totals.result()) {
        models.add(new JsonObject().put("model", t.model()).put("streams", t.streams())
            .put("resumed_streams", t.resumedStreams()).put("resumes", t.resumes())
            .put("failed_streams", t.failedStreams()));
        streams += t.streams();
        resumedStreams += t.resumedStreams();
        resumes += t.resumes();
        failed += t.failedStreams();
      }
      JsonArray latest = new JsonArray();
      for (MetricsStore.ResumedRequest r : recent.result()) {
        latest.add(new JsonObject().put("request_id", r.requestId()).put("model", r.model())
            .put("created", r.startedAt()).put("resumes", r.resumes()).put("replicas", r.replicas())
            .put("status", r.status()).put("completion_tokens", r.completionTokens()));
      }
      return AdminContext.json(ctx, 200, new JsonObject().put("from", start).put("to", to).put("streams", streams)
          .put("resumed_streams", resumedStreams).put("resumes", resumes).put("failed_streams", failed)
          .put("models", models).put("latest", latest));
    });
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
    // Hours before rolledUpTo were rolled up (metrics.retentionDays): read from the aggregates, the rest raw.
    return store.rolledUpTo().compose(rolledUpTo -> {
      long rawFrom = Math.max(start, rolledUpTo);
      Future<List<HourlyTotals>> hourly = start < rolledUpTo
          ? store.hourlyTotals(start, Math.min(to, rolledUpTo), size, g) : Future.succeededFuture(List.of());
      Future<Long> rawCount = rawFrom < to ? store.countBetween(rawFrom, to) : Future.succeededFuture(0L);
      return rawCount.compose(count -> {
        boolean exact = count <= EXACT_LATENCY_MAX_ROWS;
        Future<List<BucketTotals>> totals = count > 0
            ? store.bucketTotals(rawFrom, to, size, g) : Future.succeededFuture(List.of());
        Future<List<BucketDuration>> durations = exact && count > 0
            ? store.bucketDurations(rawFrom, to, size, g) : Future.succeededFuture(List.of());
        return Future.all(totals, durations, hourly).compose(all -> {
          Series s = series(start, to, size, g, all.resultAt(0), exact ? all.resultAt(1) : null, all.resultAt(2));
          return AdminContext.json(ctx, 200, new JsonObject()
              .put("from", start)
              .put("to", to)
              .put("bucket", size)
              .put("group_by", g == GroupBy.NONE ? null : group)
              .put("latency", s.exactLatency() ? "exact" : "approximate")
              .put("series", s.points()));
        });
      });
    });
  }

  /** The series, and whether every latency figure in it is exact. */
  record Series(JsonArray points, boolean exactLatency) {}

  /** One series per group (one series, group null, without grouping), each with every bucket of the range. */
  static JsonArray series(long from, long to, int bucket, GroupBy groupBy, List<BucketTotals> totals,
                          List<BucketDuration> durations) {
    return series(from, to, bucket, groupBy, totals, durations, List.of()).points();
  }

  /**
   * As above, with rolled-up hours added to the buckets they start in. A bucket holding exactly one rolled-up hour
   * (buckets of an hour) keeps that hour's exact percentiles; one mixing several hours, or hours and raw rows, gets
   * the request-weighted mean of their medians and the largest of their 95th percentiles, and the series is marked
   * approximate.
   */
  static Series series(long from, long to, int bucket, GroupBy groupBy, List<BucketTotals> totals,
                       List<BucketDuration> durations, List<HourlyTotals> hourly) {
    long first = from / bucket;
    long last = (to - 1) / bucket;
    Map<Object, Map<Long, BucketTotals>> byGroup = new LinkedHashMap<>();
    if (groupBy == GroupBy.NONE) {
      byGroup.put(null, new HashMap<>());
    }
    Map<Object, Map<Long, List<HourlyTotals>>> hours = new HashMap<>();
    for (HourlyTotals h : hourly) {
      byGroup.computeIfAbsent(key(h.group()), k -> new HashMap<>());
      hours.computeIfAbsent(key(h.group()), k -> new HashMap<>()).computeIfAbsent(h.bucket(), k -> new ArrayList<>())
          .add(h);
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
    boolean exactLatency = durations != null;
    JsonArray out = new JsonArray();
    for (Map.Entry<Object, Map<Long, BucketTotals>> e : byGroup.entrySet()) {
      JsonArray points = new JsonArray();
      Map<Long, List<Double>> groupLatencies = latencies.getOrDefault(e.getKey(), Map.of());
      Map<Long, List<HourlyTotals>> groupHours = hours.getOrDefault(e.getKey(), Map.of());
      for (long b = first; b <= last; b++) {
        BucketTotals t = e.getValue().get(b);
        List<HourlyTotals> hs = groupHours.getOrDefault(b, List.of());
        JsonObject p = new JsonObject().put("t", b * bucket);
        if (t == null && hs.isEmpty()) {
          p.put("requests", 0).put("errors", 0).put("prompt_tokens", 0).put("completion_tokens", 0)
              .putNull("latency_p50").putNull("latency_p95");
          points.add(p);
          continue;
        }
        long requests = 0;
        long errors = 0;
        long prompt = 0;
        long completion = 0;
        double p50 = 0;
        double p95 = 0;
        double weightedP50 = 0;
        if (t != null) {
          requests = t.requests();
          errors = t.errors();
          prompt = t.promptTokens();
          completion = t.completionTokens();
          List<Double> values = groupLatencies.get(b);
          if (durations != null && values != null && !values.isEmpty()) {
            double[] sorted = values.stream().mapToDouble(Double::doubleValue).toArray();
            Arrays.sort(sorted);
            p50 = percentile(sorted, 0.50);
            p95 = percentile(sorted, 0.95);
          } else {
            p50 = t.avgDuration();
            p95 = t.maxDuration();
          }
          weightedP50 = p50 * t.requests();
        }
        for (HourlyTotals h : hs) {
          requests += h.requests();
          errors += h.errors();
          prompt += h.promptTokens();
          completion += h.completionTokens();
          weightedP50 += h.latencyP50() * h.requests();
          p95 = Math.max(p95, h.latencyP95());
        }
        if (t == null && hs.size() == 1) {
          p50 = hs.get(0).latencyP50();
          p95 = hs.get(0).latencyP95();
        } else if (!hs.isEmpty()) {
          p50 = requests == 0 ? 0 : weightedP50 / requests;
          exactLatency = false;
        }
        p.put("requests", requests).put("errors", errors).put("prompt_tokens", prompt)
            .put("completion_tokens", completion).put("latency_p50", p50).put("latency_p95", p95);
        points.add(p);
      }
      out.add(new JsonObject().put("group", e.getKey()).put("points", points));
    }
    return new Series(out, exactLatency);
  }

  /** Groups compare by value whatever number type the driver returned (Integer or Long ids). */
  private static Object key(Object group) {
    return group instanceof Number n ? (Object) n.longValue() : group;
  }

  /** Nearest-rank percentile of sorted values. */
  static double percentile(double[] sorted, double p) {
    return Percentiles.nearestRank(sorted, p);
  }
}
