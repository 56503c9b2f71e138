package io.inferencegateway.ingress;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;

/** Reads a request body up to a size limit: larger bodies fail with 413 without being buffered. */
final class BodyReader {

  private BodyReader() {}

  static Future<Buffer> read(HttpServerRequest req, long maxBytes) {
    String declared = req.getHeader("content-length");
    if (declared != null) {
      try {
        if (Long.parseLong(declared.trim()) > maxBytes) {
          return Future.failedFuture(IngressFailure.tooLarge(maxBytes));
        }
      } catch (NumberFormatException e) {
        return Future.failedFuture(IngressFailure.badJson("Invalid Content-Length header."));
      }
    }
    if (req.isEnded()) {
      return Future.succeededFuture(Buffer.buffer());
    }
    Promise<Buffer> promise = Promise.promise();
    int initial = declared == null ? 1024 : (int) Math.min(Math.max(Long.parseLong(declared.trim()), 0), maxBytes);
    Buffer body = Buffer.buffer(initial);
    req.handler(chunk -> {
      if (promise.future().isComplete()) {
        return;
      }
      if (body.length() + chunk.length() > maxBytes) {
        promise.tryFail(IngressFailure.tooLarge(maxBytes));
        return;
      }
      body.appendBuffer(chunk);
    });
    req.endHandler(v -> promise.tryComplete(body));
    req.exceptionHandler(promise::tryFail);
    req.resume();
    return promise.future();
  }
}
