package io.inferencegateway.ingress;

import io.inferencegateway.metrics.UsageRecord;
import io.inferencegateway.routing.ReplicaLease;
import io.inferencegateway.store.ApiKeyRow;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;

import java.util.UUID;

/**
 * One proxied request, from arrival to its usage record: what each stage of the {@link RequestPipeline} found out,
 * for the stages after it. Lives on one event loop.
 */
final class ProxyExchange implements SlotList.Slotted {

  final HttpServerRequest request;
  final Operation op;
  final String requestId = requestId();
  final long startNanos;
  final long startMs = System.currentTimeMillis();

  /** When the request's head and body must have arrived (see {@link IntakeGuard}). */
  long deadlineNanos = Long.MAX_VALUE;
  /** Bytes of the body budget this request holds (given back by {@link Finish}). */
  long reservedBytes;

  /** Set by authenticate. */
  ApiKeyRow key;
  /** Set by parse: a model the gateway knows (never an arbitrary client string, even when the key may not use it). */
  String model;
  /** Set by parse; null before (and for requests refused earlier). */
  ParsedRequest parsed;

  /** Set by admit when fair admission let the request in; given back by finish. */
  AdmissionGate.Ticket ticket;

  /** Set by route-and-send: the replica of the current attempt, its request and answer. */
  ReplicaLease lease;
  int attempts;
  HttpClientRequest upstream;
  HttpClientResponse answer;
  /** The body of a whole (non-streamed) answer, read before the relay; null for streams. */
  Buffer answerBody;

  long ttftNanos = -1;
  /** When the current attempt's request was sent (for the first-byte watchdog). */
  long sentNanos;
  /** When the last byte came from upstream (for the idle watchdog); 0 before the answer started. */
  long lastDataNanos;
  /** Its place in the watchdog's list, or -1 (see {@link SlotList}). */
  private int watchSlot = -1;

  @Override
  public int slot() {
    return watchSlot;
  }

  @Override
  public void slot(int slot) {
    watchSlot = slot;
  }

  /** Set by the watchdog when it reset the upstream request for being late: why. Cleared for each attempt. */
  String timedOut;
  /** The client's connection is full and the upstream answer paused: the upstream is not idle, the client is. */
  boolean clientPaused;
  /** Tokens taken from the key's per-minute budget at admission, settled with the real usage at the end. */
  int reservedTokens;
  /** The body of the current attempt when it is not the parsed one (a stream's continuation); null otherwise. */
  Buffer continuationBody;
  /** The state of a resumable stream (null otherwise). */
  StreamResume resume;

  /** Set by the relay: the status the client saw, and what went wrong if anything. */
  int status;
  String error;
  int promptTokens;
  int completionTokens;
  int totalTokens;
  String output;

  /** The gateway ended this request at the drain deadline of its shutdown (see {@link Watchdog#abortAll}). */
  boolean shuttingDown;

  private boolean clientGone;
  private boolean finished;
  private Runnable onClientGone;

  ProxyExchange(HttpServerRequest request, Operation op, long nowNanos) {
    this.request = request;
    this.op = op;
    this.startNanos = nowNanos;
  }

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

  boolean clientGone() {
    return clientGone;
  }

  /** The client closed the connection: tell vLLM to stop, and the stage waiting on it to give up. */
  void markClientGone() {
    if (clientGone || finished) {
      return;
    }
    clientGone = true; // first: the reset below fails the upstream call, which must not count against the replica
    if (upstream != null) {
      upstream.reset();
    }
    if (onClientGone != null) {
      onClientGone.run();
    }
  }

  /** What to run if the client leaves while the current stage waits (one at a time). */
  void onClientGone(Runnable action) {
    this.onClientGone = action;
  }

  /** The request has ended (see {@link Finish}): nothing may act on it any more. */
  void markFinished() {
    finished = true;
    onClientGone = null;
  }

  void markData(long nowNanos) {
    lastDataNanos = nowNanos;
    if (ttftNanos < 0) {
      ttftNanos = nowNanos - startNanos;
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

  /** The body to send upstream for the current attempt. */
  Buffer upstreamBody() {
    return continuationBody != null ? continuationBody : parsed.upstreamBody();
  }

  UsageRecord record(long nowNanos) {
    return new UsageRecord(requestId, key == null ? null : key.id(), model,
        lease == null ? null : lease.replica().id(), op.recordName(), parsed != null && parsed.stream(), startMs,
        nowNanos - startNanos, ttftNanos, promptTokens, completionTokens, totalTokens, status, error,
        parsed == null ? null : parsed.input(), output, resume == null ? 0 : resume.resumes(),
        resume == null || resume.resumes() == 0 ? null : resume.replicas());
  }
}
