package io.inferencegateway.ingress;

import io.inferencegateway.metrics.GatewayMeters;
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
 * continued on another replica when it can be ({@link StreamResume}), else ended with an SSE error event (status 502
 * in the record). Fails only if the client left or the answer could not
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
  private final RouteAndSend resumer;
  private final int maxResumes;
  private final GatewayMeters meters;

  RelayAnswer(boolean storeContent, int contentMaxChars, LongSupplier clockNanos, LongSupplier clockMs) {
    this(storeContent, contentMaxChars, clockNanos, clockMs, null, 0, null);
  }

  /**
   * @param resumer sends a broken stream's continuation to another replica (null: streams are never resumed)
   * @param maxResumes continuations per request at most
   */
  RelayAnswer(boolean storeContent, int contentMaxChars, LongSupplier clockNanos, LongSupplier clockMs,
              RouteAndSend resumer, int maxResumes, GatewayMeters meters) {
    this.resumer = resumer;
    this.maxResumes = maxResumes;
    this.meters = meters;
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
    if (ex.parsed.resumable() && resumer != null) {
      ex.resume = new StreamResume(ex.op);
      ex.resume.servedBy(ex.lease.replica().id());
    }
    Promise<Void> done = Promise.promise();
    relayLeg(ex, answer, done);
    return done.future();
  }

  /** Relays one leg of a stream (the first answer, or a continuation) until it ends or breaks. */
  private void relayLeg(ProxyExchange ex, HttpClientResponse answer, Promise<Void> done) {
    HttpServerResponse out = ex.request.response();
    SseRelay relay = new SseRelay(ex.parsed.clientWantsUsage(), storeContent, buf -> {
      if (!out.closed() && !out.ended()) {
        out.write(buf);
      }
    }, ex.resume);
    ex.onClientGone(() -> {
      noteUsage(ex, relay);
      done.tryFail(IngressFailure.CLIENT_GONE);
    });
    ex.clientPaused = false;
    boolean[] over = {false}; // this leg ended or broke: later events of its answer are ignored
    answer.handler(chunk -> {
      if (over[0]) {
        return;
      }
      if (out.closed()) {
        ex.markClientGone(); // noticed before the close handler ran
        return;
      }
      ex.markData(clockNanos.getAsLong());
      // the replica's prefill is over (see ReplicaView#score): a request held back for that may go
      if (ex.lease.firstByte() && ex.ticket != null) {
        ex.ticket.promptComputed();
      }
      relay.feed(chunk);
      if (out.writeQueueFull()) {
        // back-pressure from the client: the replica is not idle, the client is (see Watchdog)
        ex.clientPaused = true;
        answer.pause();
        out.drainHandler(v -> {
          ex.clientPaused = false;
          ex.lastDataNanos = clockNanos.getAsLong();
          answer.resume();
        });
      }
    });
    answer.exceptionHandler(err -> {
      if (!over[0]) {
        over[0] = true;
        broken(ex, relay, done, err.getMessage() == null ? err.toString() : err.getMessage());
      }
    });
    answer.endHandler(v -> {
      if (over[0]) {
        return;
      }
      over[0] = true;
      if (ex.resume == null || relay.sawDone()) {
        relay.flushRemainder(); // a resumed stream drops a torn last event instead: the continuation replaces it
      }
      if (!relay.sawDone()) {
        broken(ex, relay, done, "the model server ended the stream early");
        return;
      }
      if (ex.resume != null && ex.resume.upstreamError() != null) {
        broken(ex, relay, done, "the model server sent an error: " + ex.resume.upstreamError());
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
  }

  /**
   * A stream that broke after the client got its first byte: continued on another replica when it can be (see
   * {@link StreamResume}), else ended with an error event and recorded as failed.
   */
  private void broken(ProxyExchange ex, SseRelay relay, Promise<Void> done, String reason) {
    if (done.future().isComplete()) {
      return;
    }
    noteUsage(ex, relay);
    if (relay.sawDone() && (ex.resume == null || ex.resume.upstreamError() == null)) {
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
    String why = ex.timedOut != null ? ex.timedOut : reason;
    if (ex.timedOut == null) {
      ex.lease.failed(clockMs.getAsLong(), false, "stream interrupted: " + why);
    } // a timeout is no verdict on the replica: the lease's release is neutral
    if (ex.upstream != null) {
      ex.upstream.reset();
    }
    StreamResume resume = ex.resume;
    if (resume != null && resume.finished()) {
      // the finish reason reached the client: only the end of the stream is missing
      if (!out.ended()) {
        out.end(Buffer.buffer("data: [DONE]\n\n"));
      }
      ex.status = 200;
      ex.error = "stream ended after its finish reason: " + why;
      done.tryComplete();
      return;
    }
    Buffer continuation = null;
    String whyNot = resume == null ? "not resumable" : Watchdog.TOTAL_TIME_EXCEEDED.equals(ex.timedOut)
        ? "its time is spent" : resume.whyNot(maxResumes);
    if (whyNot == null) {
      continuation = resume.continuation(ex.parsed.upstreamBody());
      whyNot = continuation == null ? "its token budget is spent" : null;
    }
    if (whyNot != null) {
      interrupted(ex, done, why);
      return;
    }
    resume.nextLeg();
    meters.resumed(ex.model);
    ex.lease.release();
    resumer.resend(ex, continuation, resume.replicaIds()).onComplete(ar -> {
      if (done.future().isComplete()) {
        return;
      }
      if (ar.failed() || ex.answer.statusCode() != 200) {
        String cause = ar.failed() ? OpenAiErrors.classify(ar.cause()).detail()
            : "the continuation was answered with HTTP " + ex.answer.statusCode();
        if (ar.succeeded()) {
          ex.answer.body(); // drained, so the connection can be reused
        }
        if (ex.clientGone()) {
          done.tryFail(IngressFailure.CLIENT_GONE);
          return;
        }
        interrupted(ex, done, why + "; not resumed: " + cause);
        return;
      }
      resume.servedBy(ex.lease.replica().id());
      relayLeg(ex, ex.answer, done);
    });
  }

  /** Ends a stream that cannot go on with an error event; the record says it failed. */
  private void interrupted(ProxyExchange ex, Promise<Void> done, String why) {
    HttpServerResponse out = ex.request.response();
    if (!out.ended() && !out.closed()) {
      IngressFailure f = new IngressFailure(502, "upstream_error", "stream_interrupted", null,
          "The model server stopped the stream before it was complete.", 0, false, why);
      out.end(Buffer.buffer("data: ").appendBuffer(OpenAiErrors.body(f)).appendString("\n\n"));
    }
    ex.status = 502;
    ex.error = "stream interrupted: " + why;
    done.tryComplete();
  }

  /**
   * Usage of a stream: vLLM's usage chunk if it came (covering every leg of a resumed stream), else an estimate from
   * the events relayed so far.
   */
  private void noteUsage(ProxyExchange ex, SseRelay relay) {
    if (relay.usage() != null) {
      ex.usage(ex.resume != null ? ex.resume.combinedUsage(relay.usage()) : relay.usage());
    } else if (ex.resume != null) {
      ex.completionTokens = ex.resume.tokens();
      ex.totalTokens = ex.promptTokens + ex.completionTokens;
    } else {
      ex.completionTokens = Math.max(0, relay.choiceEvents() - 1); // the first event only carries the role
      ex.totalTokens = ex.promptTokens + ex.completionTokens;
    }
    if (storeContent) {
      String text = ex.resume != null && ex.resume.resumes() > 0 ? ex.resume.text() : relay.content();
      ex.output = ParseRequest.truncate(text, contentMaxChars);
    }
  }

  /**
   * The {@code "usage"} object of a JSON answer, found by scanning from its end (where vLLM puts it) and parsing only
   * that object; null if there is none at the answer's top level or the text is not what was expected (the caller
   * then parses everything). A {@code "usage"} key cannot hide in a string (its quotes would be escaped there); one in
   * a nested object is told apart by what follows it: only the top level's other members and its closing brace.
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
    int close = closingBrace(b, i, len);
    if (close < 0 || !closesTopLevel(b, close + 1, len)) {
      return null;
    }
    UsageParser parser = new UsageParser(b, i, close + 1);
    JsonObject usage = parser.object();
    if (usage != null && parser.at == close + 1) {
      return usage; // the usual flat object of counts: read by hand
    }
    try {
      return new JsonObject(answer.slice(i, close + 1)); // something else in it: Jackson, from the bytes
    } catch (DecodeException e) {
      return null;
    }
  }

  /** The index of the brace closing the object that opens at {@code i}, or -1. */
  private static int closingBrace(SseRelay.Bytes b, int i, int len) {
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
        return j;
      }
    }
    return -1;
  }

  /** Whether the text from {@code from} closes exactly one object (members in between allowed) and ends there. */
  private static boolean closesTopLevel(SseRelay.Bytes b, int from, int len) {
    int depth = 0;
    boolean inString = false;
    for (int j = from; j < len; j++) {
      byte c = b.at(j);
      if (inString) {
        if (c == '\\') {
          j++;
        } else if (c == '"') {
          inString = false;
        }
      } else if (c == '"') {
        if (depth < 0) {
          return false;
        }
        inString = true;
      } else if (c == '{' || c == '[') {
        if (depth < 0) {
          return false;
        }
        depth++;
      } else if (c == '}' || c == ']') {
        if (--depth < -1) {
          return false;
        }
      } else if (depth < 0 && c != ' ' && c != '\n' && c != '\r' && c != '\t') {
        return false;
      }
    }
    return depth == -1;
  }

  /**
   * Reads a usage object by hand when it holds only what vLLM puts there: keys without escapes, and integers, nulls,
   * booleans or such objects as values; {@link #object} returns null for anything else. Integers become Integer or
   * Long, as Jackson makes them.
   */
  private static final class UsageParser {
    private final SseRelay.Bytes b;
    private final int end;
    int at;

    UsageParser(SseRelay.Bytes b, int from, int end) {
      this.b = b;
      this.at = from;
      this.end = end;
    }

    private void spaces() {
      while (at < end && (b.at(at) == ' ' || b.at(at) == '\n' || b.at(at) == '\r' || b.at(at) == '\t')) {
        at++;
      }
    }

    JsonObject object() {
      spaces();
      if (at >= end || b.at(at) != '{') {
        return null;
      }
      at++;
      JsonObject o = new JsonObject();
      spaces();
      if (at < end && b.at(at) == '}') {
        at++;
        return o;
      }
      while (true) {
        spaces();
        if (at >= end || b.at(at) != '"') {
          return null;
        }
        int from = ++at;
        while (at < end && b.at(at) != '"') {
          byte c = b.at(at);
          if (c == '\\' || c < 0x20) {
            return null;
          }
          at++;
        }
        if (at >= end) {
          return null;
        }
        String key = new String(b.array(), b.offset() + from, at - from, java.nio.charset.StandardCharsets.UTF_8);
        at++;
        spaces();
        if (at >= end || b.at(at) != ':') {
          return null;
        }
        at++;
        spaces();
        if (at >= end) {
          return null;
        }
        byte c = b.at(at);
        if (c == '{') {
          JsonObject inner = object();
          if (inner == null) {
            return null;
          }
          o.put(key, inner);
        } else if (c == '-' || (c >= '0' && c <= '9')) {
          int start = at;
          if (c == '-') {
            at++;
          }
          long v = 0;
          int digits = 0;
          while (at < end && b.at(at) >= '0' && b.at(at) <= '9') {
            v = v * 10 + (b.at(at++) - '0');
            digits++;
          }
          if (digits == 0 || digits > 18 || (at < end && (b.at(at) == '.' || b.at(at) == 'e' || b.at(at) == 'E'))
              || (digits > 1 && b.at(c == '-' ? start + 1 : start) == '0')) {
            return null;
          }
          v = c == '-' ? -v : v;
          if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
            o.put(key, (int) v);
          } else {
            o.put(key, v);
          }
        } else if (word("null")) {
          o.putNull(key);
        } else if (word("true")) {
          o.put(key, true);
        } else if (word("false")) {
          o.put(key, false);
        } else {
          return null;
        }
        spaces();
        if (at >= end) {
          return null;
        }
        if (b.at(at) == ',') {
          at++;
        } else if (b.at(at) == '}') {
          at++;
          return o;
        } else {
          return null;
        }
      }
    }

    private boolean word(String w) {
      if (end - at < w.length()) {
        return false;
      }
      for (int k = 0; k < w.length(); k++) {
        if (b.at(at + k) != w.charAt(k)) {
          return false;
        }
      }
      at += w.length();
      return true;
    }
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
