package io.inferencegateway.ingress;

/**
 * A request the ingress refuses or cannot complete, carrying everything the OpenAI error shape needs.
 * Thrown/failed anywhere in the request chain and turned into a response in one place ({@link OpenAiErrors}).
 * No stack trace: these are expected outcomes, not bugs.
 */
public final class IngressFailure extends RuntimeException {

  /** The client closed the connection before its answer was complete (recorded as 499, answered to no one). */
  public static final IngressFailure CLIENT_GONE = new IngressFailure(499, "client_error", "client_closed_request",
      null, "client closed the connection", 0, false);

  private final int status;
  private final String type;
  private final String code;
  private final String param;
  private final long retryAfterSeconds;
  /** True when nothing reached the client and another replica may be tried. */
  private final boolean retryable;

  /** What the gateway logs and records about the failure (may name internal addresses); never sent to the client. */
  private final String detail;

  public IngressFailure(int status, String type, String code, String param, String message, long retryAfterSeconds,
                        boolean retryable) {
    this(status, type, code, param, message, retryAfterSeconds, retryable, null);
  }

  /** As the other constructor, with a {@link #detail()} for logs and breakers that the client never sees. */
  public IngressFailure(int status, String type, String code, String param, String message, long retryAfterSeconds,
                        boolean retryable, String detail) {
    super(message, null, false, false);
    this.detail = detail;
    this.status = status;
    this.type = type;
    this.code = code;
    this.param = param;
    this.retryAfterSeconds = retryAfterSeconds;
    this.retryable = retryable;
  }

  public static IngressFailure invalid(String param, String message) {
    return new IngressFailure(400, "invalid_request_error", "invalid_value", param, message, 0, false);
  }

  public static IngressFailure badJson(String message) {
    return new IngressFailure(400, "invalid_request_error", "invalid_json", null, message, 0, false);
  }

  public static IngressFailure unauthorized(String message) {
    return new IngressFailure(401, "invalid_request_error", "invalid_api_key", null, message, 0, false);
  }

  public static IngressFailure modelNotFound(String model) {
    return new IngressFailure(404, "invalid_request_error", "model_not_found", "model",
        "The model `" + model + "` does not exist or you do not have access to it.", 0, false);
  }

  public static IngressFailure notFound(String path) {
    return new IngressFailure(404, "invalid_request_error", "not_found", null, "Unknown request URL: " + path, 0, false);
  }

  public static IngressFailure methodNotAllowed(String method, String path) {
    return new IngressFailure(405, "invalid_request_error", "method_not_allowed", null,
        "Method " + method + " is not allowed on " + path, 0, false);
  }

  public static IngressFailure tooLarge(long max) {
    return new IngressFailure(413, "invalid_request_error", "request_too_large", null,
        "Request body is larger than the limit of " + max + " bytes.", 0, false);
  }

  public static IngressFailure requestTimeout(long deadlineMs) {
    return new IngressFailure(408, "invalid_request_error", "request_timeout", null,
        "The request's head and body did not arrive within " + deadlineMs + " ms.", 0, false);
  }

  public static IngressFailure unsupportedMediaType(String contentType) {
    return new IngressFailure(415, "invalid_request_error", "unsupported_media_type", null,
        "Content-Type must be application/json, not '" + contentType + "'.", 0, false);
  }

  public static IngressFailure rateLimited(String limit, long retryAfterMs) {
    long seconds = Math.max(1, (retryAfterMs + 999) / 1000);
    String what = "tokens".equals(limit) ? "tokens per minute" : "requests per minute";
    return new IngressFailure(429, "rate_limit_exceeded", "rate_limit_exceeded", null,
        "Rate limit reached for " + what + " on this API key. Retry after " + seconds + " s.", seconds, false);
  }

  public static IngressFailure replicasBusy(String model, long retryAfterMs) {
    long seconds = Math.max(1, (retryAfterMs + 999) / 1000);
    return new IngressFailure(429, "rate_limit_exceeded", "replicas_at_capacity", null,
        "Every replica of `" + model + "` is at its request limit. Retry after " + seconds + " s.", seconds, false);
  }

  /** Fair admission: the model's queue is full. */
  public static IngressFailure queueFull(String model, long retryAfterSeconds) {
    return new IngressFailure(429, "rate_limit_exceeded", "queue_full", null,
        "Every replica of `" + model + "` is saturated and its queue is full. Retry after " + retryAfterSeconds + " s.",
        retryAfterSeconds, false);
  }

  /** Fair admission: the request waited the longest allowed for a saturated model. */
  public static IngressFailure queueTimeout(String model, long waitedMs, long retryAfterSeconds) {
    return new IngressFailure(429, "rate_limit_exceeded", "queue_timeout", null,
        "Every replica of `" + model + "` stayed saturated for the " + waitedMs + " ms this request waited. Retry after "
            + retryAfterSeconds + " s.", retryAfterSeconds, false);
  }

  /** The key already has its maximum number of requests in the gateway. */
  public static IngressFailure concurrencyLimit(int limit) {
    return new IngressFailure(429, "rate_limit_exceeded", "concurrency_limit_exceeded", null,
        "This API key already has " + limit + " requests in progress, its limit. Retry after 1 s.", 1, false);
  }

  public static IngressFailure limiterUnavailable() {
    return new IngressFailure(503, "service_unavailable", "rate_limiter_unavailable", null,
        "The rate limiter is unavailable; try again shortly.", 1, false);
  }

  public static IngressFailure noReplica(String model) {
    return new IngressFailure(503, "service_unavailable", "no_healthy_replica", null,
        "No healthy replica is serving `" + model + "` right now.", 1, false);
  }

  /** The gateway is draining before it stops: new requests, and streams still running at the drain deadline. */
  public static IngressFailure shuttingDown() {
    return new IngressFailure(503, "service_unavailable", "shutting_down", null,
        "The gateway is shutting down; retry the request (another instance will take it).", 1, false);
  }

  /** The client learns only that the model server could not be reached: {@code detail} may hold its address. */
  public static IngressFailure upstreamUnreachable(String detail) {
    return new IngressFailure(502, "upstream_error", "upstream_unreachable", null,
        "The model server could not be reached.", 0, true, "unreachable: " + detail);
  }

  /**
   * The replica refused the gateway's credentials (HTTP 401/403 from vLLM: its {@code --api-key} is not the one the
   * gateway holds for it). Another replica may have the right one; the operator must fix this one.
   */
  public static IngressFailure upstreamAuthFailed(int upstreamStatus) {
    return new IngressFailure(502, "upstream_error", "upstream_auth_failed", null,
        "The model server refused the gateway's credentials.", 0, true,
        "the replica answered " + upstreamStatus + " to the gateway's API key (check the replica's api_key)");
  }

  /** A 5xx from vLLM. Only a 503 (overloaded, shutting down) is worth trying on another replica. */
  public static IngressFailure upstreamError(int upstreamStatus) {
    int status = upstreamStatus == 503 ? 503 : 502;
    return new IngressFailure(status, "upstream_error", "upstream_error", null,
        "The model server answered with HTTP " + upstreamStatus + ".", status == 503 ? 1 : 0, status == 503);
  }

  public static IngressFailure upstreamTimeout(String what) {
    return new IngressFailure(504, "upstream_error", "upstream_timeout", null,
        "The model server did not answer in time (" + what + ").", 0, true);
  }

  /**
   * The replica accepted the request but was too late (see {@link Watchdog}): a long answer is not a failed replica,
   * so this is not retried elsewhere.
   */
  public static IngressFailure acceptedTimeout(String what) {
    return new IngressFailure(504, "upstream_error", "upstream_timeout", null,
        "The model server did not answer in time (" + what + ").", 0, false);
  }

  /** A failure of the upstream exchange the gateway has no better name for: 502, and worth another replica. */
  public static IngressFailure upstreamBroken(String detail) {
    return new IngressFailure(502, "upstream_error", "upstream_error", null,
        "The model server's answer could not be read.", 0, true, "broken: " + detail);
  }

  /** What to log or record about this failure: the detail if there is one, else the client's message. */
  public String detail() {
    return detail != null ? detail : getMessage();
  }

  public int status() {
    return status;
  }

  public String type() {
    return type;
  }

  public String code() {
    return code;
  }

  public String param() {
    return param;
  }

  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }

  public boolean retryable() {
    return retryable;
  }
}
