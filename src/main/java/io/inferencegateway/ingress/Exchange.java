package io.inferencegateway.ingress;

import io.inferencegateway.metrics.UsageRecord;
import io.inferencegateway.routing.ReplicaState;
import io.inferencegateway.routing.RouteHints;
import io.inferencegateway.store.ApiKeyRow;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;

import java.util.UUID;

/** The state of one proxied request, from arrival to its usage record. Lives on one event loop. */
final class Exchange {

  final HttpServerRequest request;
  final Operation op;
  final String requestId = requestId();
  final long startNanos = System.nanoTime();
  final long startMs = System.currentTimeMillis();

  ApiKeyRow key;
  JsonObject body;
  Buffer upstreamBody;
  String model;
  boolean stream;
  boolean clientWantsUsage;
  RouteHints hints = RouteHints.NONE;

  ReplicaState replica;
  /** Whether this request counts in {@code replica}'s in-flight number right now. */
  boolean replicaHeld;
  SseRelay relay;
  HttpClientRequest upstream;
  int attempts;
  long ttftNanos = -1;
  /** Whether the replica answered (its response head arrived): from then on, no fail-over. */
  boolean headReceived;
  /** When the last byte came from upstream (for the idle watchdog); 0 before the answer started. */
  long lastDataNanos;

  int promptTokens;
  int completionTokens;
  int totalTokens;
  String input;
  String output;

  private boolean finished;

  /**
   * A time-ordered (version 7) UUID: 48 bits of milliseconds, then random bits from the thread's own generator.
   * Time order keeps inserts into the unique index on {@code metrics.request_id} at the end of the B-tree, and the
   * thread-local generator avoids the lock of the one SecureRandom behind {@code UUID.randomUUID()}; request ids need
   * uniqueness, not secrecy.
   */
  static String requestId() {
    java.util.concurrent.ThreadLocalRandom r = java.util.concurrent.ThreadLocalRandom.current();
    long msb = (System.currentTimeMillis() << 16) | 0x7000L | (r.nextInt() & 0x0FFFL);
    long lsb = (r.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(msb, lsb).toString();
  }

  Exchange(HttpServerRequest request, Operation op) {
    this.request = request;
    this.op = op;
  }

  /** Marks the request as finished without a usage record (unauthenticated requests are not billed). */
  void abandon() {
    finished = true;
  }

  boolean finished() {
    return finished;
  }

  void markFirstByte() {
    long now = System.nanoTime();
    lastDataNanos = now;
    if (ttftNanos < 0) {
      ttftNanos = now - startNanos;
    }
  }

  void usage(JsonObject usage) {
    if (usage == null) {
      return;
    }
    promptTokens = intOf(usage, "prompt_tokens");
    completionTokens = intOf(usage, "completion_tokens");
    totalTokens = usage.getValue("total_tokens") instanceof Number n ? n.intValue() : promptTokens + completionTokens;
  }

  private static int intOf(JsonObject o, String field) {
    return o.getValue(field) instanceof Number n ? n.intValue() : 0;
  }

  /** Builds the usage record; returns null if it was already built (a request is recorded exactly once). */
  UsageRecord finish(int status, String error) {
    if (finished) {
      return null;
    }
    finished = true;
    return new UsageRecord(requestId, key == null ? null : key.id(), model, replica == null ? null : replica.id(),
        op.recordName(), stream, startMs, System.nanoTime() - startNanos, ttftNanos, promptTokens, completionTokens,
        totalTokens, status, error, input, output);
  }
}
