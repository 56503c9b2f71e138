package io.inferencegateway.ingress;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.streams.ReadStream;

/**
 * Stage "read body": a JSON content type (a missing one is taken as JSON: many hand-written clients omit it), then the
 * body up to the size limit; a larger body fails with 413 without being buffered.
 */
final class ReadBody {

  private final long maxBytes;

  ReadBody(long maxBytes) {
    this.maxBytes = maxBytes;
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
    return read(req, req.isEnded(), req.getHeader(HttpHeaders.CONTENT_LENGTH), maxBytes);
  }

  /** Reads a (paused) body stream to its end; resumes it. */
  static Future<Buffer> read(ReadStream<Buffer> body, boolean ended, String contentLength, long maxBytes) {
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
    Promise<Buffer> promise = Promise.promise();
    Body read = new Body(declared);
    body.handler(chunk -> {
      if (promise.future().isComplete()) {
        return;
      }
      if (read.length() + chunk.length() > maxBytes) {
        promise.tryFail(IngressFailure.tooLarge(maxBytes));
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
