package io.inferencegateway.metrics;

import io.vertx.core.json.JsonObject;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The once-a-second summary published on {@code gateway.metrics.live}: requests, errors, tokens and latency
 * percentiles over the last second, overall and by model. Kept by the metrics writer (one thread).
 */
final class LiveStats {

  private static final int MAX_SAMPLES = 20_000;

  private final GatewayMeters meters;
  private final Map<String, int[]> byModel = new HashMap<>(); // requests, errors, prompt, completion
  private long[] latencies = new long[256];
  private int samples;
  private int requests;
  private int errors;
  private long promptTokens;
  private long completionTokens;

  LiveStats(GatewayMeters meters) {
    this.meters = meters;
  }

  void add(UsageRecord r) {
    requests++;
    if (r.failed()) {
      errors++;
    }
    promptTokens += r.promptTokens();
    completionTokens += r.completionTokens();
    int[] m = byModel.computeIfAbsent(r.model() == null ? "none" : r.model(), k -> new int[4]);
    m[0]++;
    m[1] += r.failed() ? 1 : 0;
    m[2] += r.promptTokens();
    m[3] += r.completionTokens();
    if (samples < MAX_SAMPLES) {
      if (samples == latencies.length) {
        latencies = Arrays.copyOf(latencies, samples * 2);
      }
      latencies[samples++] = r.durationNanos();
    }
  }

  JsonObject snapshotAndReset() {
    long[] sorted = Arrays.copyOf(latencies, samples);
    Arrays.sort(sorted);
    JsonObject models = new JsonObject();
    byModel.forEach((name, m) -> models.put(name, new JsonObject().put("requests", m[0]).put("errors", m[1])
        .put("prompt_tokens", m[2]).put("completion_tokens", m[3])));
    JsonObject out = new JsonObject()
        .put("ts", System.currentTimeMillis())
        .put("requests", requests)
        .put("errors", errors)
        .put("prompt_tokens", promptTokens)
        .put("completion_tokens", completionTokens)
        .put("in_flight", meters.inFlight().get())
        .put("latency_ms_p50", percentileMs(sorted, 0.50))
        .put("latency_ms_p95", percentileMs(sorted, 0.95))
        .put("latency_ms_p99", percentileMs(sorted, 0.99))
        .put("by_model", models)
        .put("admission", meters.admissionSnapshot());
    byModel.clear();
    samples = 0;
    requests = 0;
    errors = 0;
    promptTokens = 0;
    completionTokens = 0;
    return out;
  }

  private static Double percentileMs(long[] sorted, double q) {
    if (sorted.length == 0) {
      return null;
    }
    int idx = (int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
    return Math.round(sorted[Math.max(idx, 0)] / 10_000.0) / 100.0;
  }
}
