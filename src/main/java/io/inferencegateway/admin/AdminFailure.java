package io.inferencegateway.admin;

import io.vertx.core.json.JsonObject;

/**
 * An admin request the gateway refuses, with the status and the JSON body the toolkit's clients expect:
 * {@code {"error": "..."}}, {@code {"message": "..."}} or {@code {"errors": {field: [messages]}}}.
 * Failed anywhere in a handler's future chain and turned into a response in one place ({@link AdminErrors}).
 * No stack trace: these are expected outcomes, not bugs.
 */
public final class AdminFailure extends RuntimeException {

  private final int status;
  private final JsonObject body;
  private final long retryAfterSeconds;

  AdminFailure(int status, JsonObject body, long retryAfterSeconds) {
    super(body.encode(), null, false, false);
    this.status = status;
    this.body = body;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** {@code {"error": message}}, the toolkit's usual shape. */
  public static AdminFailure error(int status, String message) {
    return new AdminFailure(status, new JsonObject().put("error", message), 0);
  }

  /** {@code {"message": message}}, the shape some toolkit endpoints use for conflicts. */
  public static AdminFailure message(int status, String message) {
    return new AdminFailure(status, new JsonObject().put("message", message), 0);
  }

  /** 400 {@code {"errors": {...}}}, marshmallow's shape: field to messages, nested objects to nested maps. */
  public static AdminFailure validation(JsonObject errors) {
    return new AdminFailure(400, new JsonObject().put("errors", errors), 0);
  }

  /** 400 with one message for one field. */
  public static AdminFailure invalid(String field, String message) {
    FieldErrors errors = new FieldErrors();
    errors.add(field, message);
    return validation(errors.toJson());
  }

  public static AdminFailure unauthorized() {
    return error(401, "Invalid Admin API key.");
  }

  public static AdminFailure notFound(String message) {
    return error(404, message);
  }

  public static AdminFailure tooManyRequests(String message, long retryAfterSeconds) {
    return new AdminFailure(429, new JsonObject().put("error", message), Math.max(1, retryAfterSeconds));
  }

  /** A refusal of the body reader (400, 408, 413, 503) in the toolkit's shape. */
  static AdminFailure from(io.inferencegateway.ingress.IngressFailure f) {
    return new AdminFailure(f.status(), new JsonObject().put("error", f.getMessage()), f.retryAfterSeconds());
  }

  public int status() {
    return status;
  }

  public JsonObject body() {
    return body.copy();
  }

  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
