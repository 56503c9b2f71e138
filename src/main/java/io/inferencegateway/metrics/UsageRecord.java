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

  private static byte[] key(String prefix) {
    return prefix.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  }

  private static final byte[] REQUEST_ID = key("{\"request_id\":");
  private static final byte[] API_KEY_ID = key(",\"api_key_id\":");
  private static final byte[] MODEL = key(",\"model\":");
  private static final byte[] REPLICA_ID = key(",\"replica_id\":");
  private static final byte[] ENDPOINT = key(",\"endpoint\":");
  private static final byte[] STREAM = key(",\"stream\":");
  private static final byte[] STARTED_AT_MS = key(",\"started_at_ms\":");
  private static final byte[] DURATION_NS = key(",\"duration_ns\":");
  private static final byte[] TTFT_NS = key(",\"ttft_ns\":");
  private static final byte[] PROMPT_TOKENS = key(",\"prompt_tokens\":");
  private static final byte[] COMPLETION_TOKENS = key(",\"completion_tokens\":");
  private static final byte[] TOTAL_TOKENS = key(",\"total_tokens\":");
  private static final byte[] STATUS = key(",\"status\":");
  private static final byte[] ERROR = key(",\"error\":");
  private static final byte[] INPUT = key(",\"input\":");
  private static final byte[] OUTPUT = key(",\"output\":");
  private static final byte[] RESUMES = key(",\"resumes\":");
  private static final byte[] REPLICAS = key(",\"replicas\":");

  /**
   * Writes {@link #toJson()} as one line of JSON (no newline) straight into {@code out}: the same bytes, without
   * building the object and running Jackson for each record (the usage journal's hot path).
   */
  void writeJson(JsonBytes out) {
    out.raw(REQUEST_ID).string(requestId).raw(API_KEY_ID).number(apiKeyId).raw(MODEL).string(model)
        .raw(REPLICA_ID).number(replicaId).raw(ENDPOINT).string(endpoint).raw(STREAM).bool(stream)
        .raw(STARTED_AT_MS).number(startedAtMs).raw(DURATION_NS).number(durationNanos).raw(TTFT_NS).number(ttftNanos)
        .raw(PROMPT_TOKENS).number(promptTokens).raw(COMPLETION_TOKENS).number(completionTokens)
        .raw(TOTAL_TOKENS).number(totalTokens).raw(STATUS).number(status).raw(ERROR).string(error)
        .raw(INPUT).string(input).raw(OUTPUT).string(output).raw(RESUMES).number(resumes)
        .raw(REPLICAS).string(replicas).raw('}');
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
