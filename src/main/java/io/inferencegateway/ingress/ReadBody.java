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
      return Future.succeededFuture(Buffer.buffer());
    }
    Promise<Buffer> promise = Promise.promise();
    Buffer buffer = Buffer.buffer(declared < 0 ? 1024 : (int) Math.max(declared, 0));
    body.handler(chunk -> {
      if (promise.future().isComplete()) {
        return;
      }
      if (buffer.length() + chunk.length() > maxBytes) {
        promise.tryFail(IngressFailure.tooLarge(maxBytes));
        return;
      }
      buffer.appendBuffer(chunk);
    });
    body.endHandler(v -> promise.tryComplete(buffer));
    body.exceptionHandler(promise::tryFail);
    body.resume();
    return promise.future();
  }
}
