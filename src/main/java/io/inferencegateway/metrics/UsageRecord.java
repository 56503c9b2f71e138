package io.inferencegateway.metrics;

import io.vertx.core.json.JsonObject;

/**
 * What one proxied request cost: written once to {@code metrics}, counted in Prometheus and summed for the live feed.
 * Sent from the ingress to the metrics writer over the event bus by reference (see {@code PassThroughCodec}).
 *
 * @param requestId unique per request; the database refuses a second row with the same id, so retries cannot double count
 * @param endpoint {@code chat/completions}, {@code completions} or {@code embeddings}
 * @param ttftNanos time to the first byte of the answer (streaming: the first event), or -1 if none arrived
 * @param status the HTTP status the client saw; 499 when the client went away first
 * @param resumes how many times a broken stream was continued on another replica (0 for most requests)
 * @param replicas the replicas that served a resumed stream's legs, in order, comma-separated; null when not resumed
 */
public record UsageRecord(String requestId, Long apiKeyId, String model, Long replicaId, String endpoint, boolean stream,
                          long startedAtMs, long durationNanos, long ttftNanos, int promptTokens, int completionTokens,
                          int totalTokens, int status, String error, String input, String output, int resumes,
                          String replicas) {

  public UsageRecord(String requestId, Long apiKeyId, String model, Long replicaId, String endpoint, boolean stream,
                     long startedAtMs, long durationNanos, long ttftNanos, int promptTokens, int completionTokens,
                     int totalTokens, int status, String error, String input, String output) {
    this(requestId, apiKeyId, model, replicaId, endpoint, stream, startedAtMs, durationNanos, ttftNanos, promptTokens,
        completionTokens, totalTokens, status, error, input, output, 0, null);
  }

  public boolean failed() {
    return status >= 400;
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("request_id", requestId).put("api_key_id", apiKeyId).put("model", model).put("replica_id", replicaId)
        .put("endpoint", endpoint).put("stream", stream).put("started_at_ms", startedAtMs)
        .put("duration_ns", durationNanos).put("ttft_ns", ttftNanos).put("prompt_tokens", promptTokens)
        .put("completion_tokens", completionTokens).put("total_tokens", totalTokens).put("status", status)
        .put("error", error).put("input", input).put("output", output).put("resumes", resumes)
        .put("replicas", replicas);
  }

  public static UsageRecord fromJson(JsonObject j) {
    return new UsageRecord(j.getString("request_id"), j.getLong("api_key_id"), j.getString("model"),
        j.getLong("replica_id"), j.getString("endpoint"), j.getBoolean("stream", false), j.getLong("started_at_ms"),
        j.getLong("duration_ns"), j.getLong("ttft_ns", -1L), j.getInteger("prompt_tokens", 0),
        j.getInteger("completion_tokens", 0), j.getInteger("total_tokens", 0), j.getInteger("status"),
        j.getString("error"), j.getString("input"), j.getString("output"), j.getInteger("resumes", 0),
        j.getString("replicas"));
  }
}
