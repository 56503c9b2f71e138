package io.inferencegateway.ingress;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.streams.ReadStream;

import java.util.function.LongPredicate;

/**
 * Stage "read body": a JSON content type (a missing one is taken as JSON: many hand-written clients omit it), then the
 * body up to the size limit; a larger body fails with 413 without being buffered. A body takes its bytes from the
 * gateway's body budget when they start to arrive ({@link ClientLimits}; 503 {@code server_busy} when that is used
 * up; {@link Finish} gives them back), and the body must have arrived by the request's deadline ({@link IntakeGuard};
 * 408 otherwise).
 */
public final class ReadBody {

  private final long maxBytes;
  private final ClientLimits limits;
  private final IntakeGuard guard;

  ReadBody(long maxBytes) {
    this(maxBytes, null, null);
  }

  /** @param limits the body budget (null: none); @param guard the request deadlines (null: none) */
  ReadBody(long maxBytes, ClientLimits limits, IntakeGuard guard) {
    this.maxBytes = maxBytes;
    this.limits = limits;
    this.guard = guard;
  }

  Future<Buffer> apply(ProxyExchange ex) {
    if (ex.clientGone()) {
      return Future.failedFuture(IngressFailure.CLIENT_GONE);
    }
    HttpServerRequest req = ex.request;
    String ct = req.getHeader(HttpHeaders.CONTENT_TYPE);
    if (ct != null && !ct.regionMatches(true, 0, "application/json", 0, 16)) {
      return Future.failedFuture(IngressFailure.unsupportedMediaType(ct));
    }
    long holder = ex.key == null ? 0 : ex.key.id();
    LongPredicate reserve = limits == null ? UNLIMITED : bytes -> {
      if (!limits.reserve(holder, bytes)) {
        return false;
      }
      ex.reservedBytes += bytes;
      return true;
    };
    Promise<Buffer> promise = Promise.promise();
    Future<Buffer> body = read(req, req.isEnded(), req.getHeader(HttpHeaders.CONTENT_LENGTH), maxBytes, reserve,
        promise);
    if (guard != null && !body.isComplete()) {
      IntakeGuard.Entry entry = guard.watch(ex.deadlineNanos,
          () -> promise.tryFail(IngressFailure.requestTimeout(guard.deadlineMs())));
      body.onComplete(ar -> guard.unwatch(entry));
    }
    return body;
  }

  private static final LongPredicate UNLIMITED = bytes -> true;

  /** Reads a (paused) body stream to its end; resumes it. */
  static Future<Buffer> read(ReadStream<Buffer> body, boolean ended, String contentLength, long maxBytes) {
    return read(body, ended, contentLength, maxBytes, UNLIMITED, Promise.promise());
  }

  /**
   * Reads a (paused) body stream to its end into {@code promise}; resumes it. The body's bytes must be granted by
   * {@code reserve}, else the read fails with 503 {@code server_busy}: the announced length with the first byte (so a
   * body let in can always finish, and a client announcing a body and sending nothing holds nothing), or each piece
   * of a chunked body as it arrives. Failing the promise from
   * outside (a deadline) stops the read: later pieces are ignored.
   */
  public static Future<Buffer> read(ReadStream<Buffer> body, boolean ended, String contentLength, long maxBytes,
                                    LongPredicate reserve, Promise<Buffer> promise) {
    long declared = -1;
    if (contentLength != null) {
      try {
        declared = Long.parseLong(contentLength.trim());
      } catch (NumberFormatException e) {
        return Future.failedFuture(IngressFailure.badJson("Invalid Content-Length header."));
      }
      if (declared > maxBytes) {
        return Future.failedFuture(IngressFailure.tooLarge(maxBytes));
      }
    }
    if (ended) {
      return Future.succeededFuture(Buffer.buffer(0));
    }
    Body read = new Body(declared);
    long announced = declared;
    body.handler(chunk -> {
      if (promise.future().isComplete()) {
        return;
      }
      if (read.length() + chunk.length() > maxBytes) {
        promise.tryFail(IngressFailure.tooLarge(maxBytes));
        return;
      }
      // an announced length is taken whole with the first byte (so a body let in can always finish), a chunked
      // body's bytes as they come
      long take = announced < 0 ? chunk.length() : read.length() == 0 ? announced : 0;
      if (take > 0 && !reserve.test(take)) {
        promise.tryFail(ClientLimits.busy());
        return;
      }
      read.add(chunk);
    });
    body.endHandler(v -> promise.tryComplete(read.whole()));
    body.exceptionHandler(promise::tryFail);
    body.resume();
    return promise.future();
  }

  /**
   * A body as it arrives. A body that comes in one piece (most do) is kept as that piece, uncopied; a longer one is
   * joined into a buffer that grows with what arrived, never reserved ahead from what the client announced.
   */
  private static final class Body {
    private static final int MAX_RESERVE = 64 * 1024;
    private final long declared;
    private Buffer single;
    private Buffer joined;

    Body(long declared) {
      this.declared = declared;
    }

    int length() {
      return joined != null ? joined.length() : single != null ? single.length() : 0;
    }

    void add(Buffer chunk) {
      if (joined == null && single == null) {
        single = chunk;
        return;
      }
      if (joined == null) {
        long expected = Math.max(declared, (long) single.length() + chunk.length());
        joined = Buffer.buffer((int) Math.min(expected, MAX_RESERVE)).appendBuffer(single);
        single = null;
      }
      joined.appendBuffer(chunk);
    }

    Buffer whole() {
      return joined != null ? joined : single != null ? single : Buffer.buffer(0);
    }
  }
}
