package io.inferencegateway.retention;

import io.inferencegateway.metrics.Percentiles;
import io.inferencegateway.store.UsageRollupStore.Aggregate;
import io.inferencegateway.store.UsageRollupStore.RawRow;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Sums one hour of usage rows per (key, model), then per model, per key and in all, with exact nearest-rank latency
 * percentiles at each grouping (from every row's duration, never from percentiles of percentiles).
 */
final class HourAggregator {

  static final String KEY_MODEL = "key_model";
  static final String MODEL = "model";
  static final String API_KEY = "api_key";
  static final String NONE = "none";

  private record Group(Integer apiKeyId, String model) {}

  /** Running totals of one group; durations kept to compute exact percentiles at the end. */
  private static final class Totals {
    long requests;
    long errors;
    long promptTokens;
    long completionTokens;
    double durationSum;
    double durationMax;
    double[] durations = new double[16];

    void add(long requests, long errors, long prompt, long completion, double sum, double max, double[] values, int n) {
      if (this.requests + n > durations.length) {
        durations = Arrays.copyOf(durations, Math.max(durations.length * 2, (int) this.requests + n));
      }
      System.arraycopy(values, 0, durations, (int) this.requests, n);
      this.requests += requests;
      this.errors += errors;
      this.promptTokens += prompt;
      this.completionTokens += completion;
      this.durationSum += sum;
      this.durationMax = this.requests == requests ? max : Math.max(this.durationMax, max);
    }

    void add(RawRow r) {
      add(1, r.status() >= 400 ? 1 : 0, r.promptTokens(), r.completionTokens(), r.duration(), r.duration(),
          new double[] {r.duration()}, 1);
    }

    void add(Totals t) {
      add(t.requests, t.errors, t.promptTokens, t.completionTokens, t.durationSum, t.durationMax, t.durations,
          (int) t.requests);
    }

    Aggregate toAggregate(long hour, String groupedBy, Integer apiKeyId, String model) {
      double[] sorted = Arrays.copyOf(durations, (int) requests);
      Arrays.sort(sorted);
      return new Aggregate(hour, groupedBy, apiKeyId, model, requests, errors, promptTokens, completionTokens,
          durationSum, durationMax, Percentiles.nearestRank(sorted, 0.50), Percentiles.nearestRank(sorted, 0.95));
    }
  }

  private final long hourStart;
  private final Map<Group, Totals> byKeyModel = new LinkedHashMap<>();
  private long rows;

  HourAggregator(long hourStart) {
    this.hourStart = hourStart;
  }

  void add(RawRow r) {
    byKeyModel.computeIfAbsent(new Group(r.apiKeyId(), r.model()), g -> new Totals()).add(r);
    rows++;
  }

  long rows() {
    return rows;
  }

  /** Aggregates at the four groupings (empty if no row was added). */
  List<Aggregate> aggregates() {
    List<Aggregate> out = new ArrayList<>();
    byKeyModel.forEach((g, t) -> out.add(t.toAggregate(hourStart, KEY_MODEL, g.apiKeyId(), g.model())));
    merged(Group::model).forEach((model, t) -> out.add(t.toAggregate(hourStart, MODEL, null, (String) model)));
    merged(Group::apiKeyId).forEach((key, t) -> out.add(t.toAggregate(hourStart, API_KEY, (Integer) key, null)));
    merged(g -> NONE).forEach((ignored, t) -> out.add(t.toAggregate(hourStart, NONE, null, null)));
    return out;
  }

  private Map<Object, Totals> merged(Function<Group, Object> by) {
    Map<Object, Totals> out = new HashMap<>();
    byKeyModel.forEach((g, t) -> out.computeIfAbsent(by.apply(g), k -> new Totals()).add(t));
    return out;
  }
}
