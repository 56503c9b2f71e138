package io.inferencegateway.ingress;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.util.function.LongSupplier;

/**
 * Stage "relay": the replica's answer to the client, as one JSON body, or as server-sent events relayed as they arrive
 * ({@link SseRelay}); notes the usage and, with {@code usage.storeContent}, the answer. Completes when the client's
 * response is over, with {@code ex.status} and {@code ex.error} set; a stream that breaks after its first event is
 * ended with an SSE error event (status 502 in the record). Fails only if the client left or the answer could not
 * be read before anything was sent.
 */
final class RelayAnswer {

  private static final CharSequence X_REQUEST_ID = HttpHeaders.createOptimized("x-request-id");
  private static final CharSequence SSE_TYPE = HttpHeaders.createOptimized("text/event-stream; charset=utf-8");
  private static final CharSequence NO_CACHE = HttpHeaders.createOptimized("no-cache");
  private static final CharSequence X_ACCEL_BUFFERING = HttpHeaders.createOptimized("x-accel-buffering");
  private static final CharSequence NO = HttpHeaders.createOptimized("no");

  private final boolean storeContent;
  private final int contentMaxChars;
  private final LongSupplier clockNanos;
  private final LongSupplier clockMs;

  RelayAnswer(boolean storeContent, int contentMaxChars, LongSupplier clockNanos, LongSupplier clockMs) {
    this.storeContent = storeContent;
    this.contentMaxChars = contentMaxChars;
    this.clockNanos = clockNanos;
    this.clockMs = clockMs;
  }

  Future<Void> apply(ProxyExchange ex) {
    HttpClientResponse answer = ex.answer;
    String contentType = answer.getHeader(HttpHeaders.CONTENT_TYPE);
    if (ex.parsed.stream() && answer.statusCode() == 200 && contentType != null
        && contentType.startsWith("text/event-stream")) {
      return stream(ex, answer);
    }
    Future<Buffer> whole = ex.answerBody != null ? Future.succeededFuture(ex.answerBody) : answer.body();
    return whole.map(body -> {
      ex.markData(clockNanos.getAsLong());
      int status = answer.statusCode();
      ex.status = status;
      if (status == 200) {
        readUsage(ex, body);
      } else {
        ex.error = "upstream HTTP " + status + ": " + ParseRequest.truncate(body.toString(), contentMaxChars);
      }
      HttpServerResponse out = ex.request.response();
      if (!out.closed() && !out.ended()) {
        out.setStatusCode(status)
            .putHeader(HttpHeaders.CONTENT_TYPE, contentType == null ? "application/json" : contentType)
            .putHeader(X_REQUEST_ID, ex.requestId)
            .end(body);
      }
      return null;
    });
  }

  private void readUsage(ProxyExchange ex, Buffer body) {
    try {
      if (!storeContent) {
        JsonObject usage = usageObject(body); // only the usage object is needed: parse that, not the whole answer
        if (usage != null) {
          ex.usage(usage);
          return;
        }
      }
      JsonObject answer = new JsonObject(body);
      ex.usage(answer.getValue("usage") instanceof JsonObject u ? u : null);
      if (storeContent && answer.getValue("choices") != null) {
        ex.output = ParseRequest.truncate(answer.getValue("choices").toString(), contentMaxChars);
      }
    } catch (DecodeException | ClassCastException e) {
      // not JSON: relayed anyway, the record just has no token counts
    }
  }

  private Future<Void> stream(ProxyExchange ex, HttpClientResponse answer) {
    HttpServerResponse out = ex.request.response();
    out.setStatusCode(200)
        .putHeader(HttpHeaders.CONTENT_TYPE, SSE_TYPE)
        .putHeader(HttpHeaders.CACHE_CONTROL, NO_CACHE)
        .putHeader(X_ACCEL_BUFFERING, NO)
        .putHeader(X_REQUEST_ID, ex.requestId)
        .setChunked(true);
    SseRelay relay = new SseRelay(ex.parsed.clientWantsUsage(), storeContent, buf -> {
      if (!out.closed() && !out.ended()) {
        out.write(buf);
      }
    });
    Promise<Void> done = Promise.promise();
    ex.onClientGone(() -> {
      noteUsage(ex, relay);
      done.tryFail(IngressFailure.CLIENT_GONE);
    });
    answer.handler(chunk -> {
      if (out.closed()) {
        ex.markClientGone(); // noticed before the close handler ran
        return;
      }
      ex.markData(clockNanos.getAsLong());
      relay.feed(chunk);
      if (out.writeQueueFull()) {
        answer.pause();
        out.drainHandler(v -> answer.resume());
      }
    });
    answer.exceptionHandler(err -> broken(ex, relay, done, err.getMessage() == null ? err.toString() : err.getMessage()));
    answer.endHandler(v -> {
      relay.flushRemainder();
      if (!relay.sawDone()) {
        broken(ex, relay, done, "the model server ended the stream early");
        return;
      }
      noteUsage(ex, relay);
      if (!out.ended() && !out.closed()) {
        out.end();
      }
      ex.status = 200;
      ex.error = relay.upstreamError();
      done.tryComplete();
    });
    return done.future();
  }

  /** A stream that broke after the client got its first byte: end it with an error event, record it as failed. */
  private void broken(ProxyExchange ex, SseRelay relay, Promise<Void> done, String reason) {
    if (done.future().isComplete()) {
      return;
    }
    noteUsage(ex, relay);
    if (relay.sawDone()) {
      // everything reached the client already; only the upstream connection's end went wrong
      ex.status = 200;
      ex.error = relay.upstreamError();
      done.tryComplete();
      return;
    }
    HttpServerResponse out = ex.request.response();
    if (out.closed()) {
      ex.markClientGone();
      return;
    }
    if (ex.shuttingDown) {
      // the gateway's own shutdown cut it, not the replica: no verdict on the replica
      IngressFailure f = IngressFailure.shuttingDown();
      if (!out.ended()) {
        out.end(Buffer.buffer("data: ").appendBuffer(OpenAiErrors.body(f)).appendString("\n\n"));
      }
      ex.status = f.status();
      ex.error = "stream ended by the gateway's shutdown";
      done.tryComplete();
      return;
    }
    if (!out.ended()) {
      IngressFailure f = new IngressFailure(502, "upstream_error", "stream_interrupted", null,
          "The model server stopped the stream before it was complete.", 0, false, reason);
      out.end(Buffer.buffer("data: ").appendBuffer(OpenAiErrors.body(f)).appendString("\n\n"));
    }
    ex.lease.failed(clockMs.getAsLong(), false, "stream interrupted: " + reason);
    ex.status = 502;
    ex.error = "stream interrupted: " + reason;
    done.tryComplete();
    if (ex.upstream != null) {
      ex.upstream.reset();
    }
  }

  /** Usage of a stream: vLLM's usage chunk if it came, else an estimate from the events relayed so far. */
  private void noteUsage(ProxyExchange ex, SseRelay relay) {
    if (relay.usage() != null) {
      ex.usage(relay.usage());
    } else {
      ex.completionTokens = Math.max(0, relay.choiceEvents() - 1); // the first event only carries the role
      ex.totalTokens = ex.promptTokens + ex.completionTokens;
    }
    if (storeContent) {
      ex.output = ParseRequest.truncate(relay.content(), contentMaxChars);
    }
  }

  /**
   * The {@code "usage"} object of a JSON answer, found by scanning from its end (where vLLM puts it) and parsing only
   * that object; null if there is none or the text is not what was expected (the caller then parses everything).
   */
  static JsonObject usageObject(Buffer answer) {
    SseRelay.Bytes b = SseRelay.Bytes.of(answer);
    int len = answer.length();
    int at = lastIndexOf(b, USAGE, len);
    if (at < 0) {
      return null;
    }
    int i = at + USAGE.length;
    while (i < len && (b.at(i) == ' ' || b.at(i) == ':')) {
      i++;
    }
    if (i >= len || b.at(i) != '{') {
      return null;
    }
    int depth = 0;
    boolean inString = false;
    for (int j = i; j < len; j++) {
      byte c = b.at(j);
      if (inString) {
        if (c == '\\') {
          j++;
        } else if (c == '"') {
          inString = false;
        }
      } else if (c == '"') {
        inString = true;
      } else if (c == '{') {
        depth++;
      } else if (c == '}' && --depth == 0) {
        try {
          return new JsonObject(answer.slice(i, j + 1)); // parsed from the bytes, no string in between
        } catch (DecodeException e) {
          return null;
        }
      }
    }
    return null;
  }

  private static final byte[] USAGE = "\"usage\"".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  private static int lastIndexOf(SseRelay.Bytes b, byte[] needle, int len) {
    outer:
    for (int i = len - needle.length; i >= 0; i--) {
      for (int k = 0; k < needle.length; k++) {
        if (b.at(i + k) != needle[k]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
