package io.inferencegateway.ingress;

import io.inferencegateway.GatewayServices;
import io.inferencegateway.auth.ApiKeys;
import io.inferencegateway.auth.KeyCheck;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.limits.LimitDecision;
import io.inferencegateway.limits.RateLimiter;
import io.inferencegateway.metrics.UsageBatcher;
import io.inferencegateway.metrics.UsageRecord;
import io.inferencegateway.routing.ModelRoute;
import io.inferencegateway.routing.Choice;
import io.inferencegateway.routing.PrefixAffinity;
import io.inferencegateway.routing.ReplicaState;
import io.inferencegateway.routing.RouteHints;
import io.inferencegateway.store.ApiKeyRow;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.util.concurrent.TimeoutException;

/**
 * The hot path: authenticate, read and check the body, apply the key's limits, pick a replica, forward, relay the
 * answer (streaming as it arrives), and hand one usage record to the metrics writer. One instance per ingress event
 * loop; nothing here blocks or queries the database (the key cache and model registry are in memory).
 */
public final class ProxyHandler {

  private final Vertx vertx;
  private final GatewayServices services;
  private final HttpClient client;
  private final RateLimiter limiter;
  private final UsageBatcher usage;
  private final GatewayConfig.Upstream upstream;
  private final long maxBodyBytes;
  private final boolean storeContent;
  private final int contentMaxChars;
  private final int maxAttempts;
  private final int affinityChars;
  /** Requests talking to a replica right now, for the timeout watchdog (only this event loop touches it). */
  private final java.util.Set<Exchange> active = new java.util.HashSet<>();
  private final long totalTimeoutNanos;
  private final long idleTimeoutNanos;

  public ProxyHandler(Vertx vertx, GatewayServices services, HttpClient client, RateLimiter limiter,
                      UsageBatcher usage) {
    this.vertx = vertx;
    this.usage = usage;
    this.services = services;
    this.client = client;
    this.limiter = limiter;
    this.upstream = services.config().upstream();
    this.maxBodyBytes = services.config().http().maxBodyBytes();
    this.storeContent = services.config().usage().storeContent();
    this.contentMaxChars = services.config().usage().contentMaxChars();
    this.maxAttempts = Math.max(1, services.config().router().maxAttempts());
    this.affinityChars = services.config().router().affinityPrefixChars();
    this.totalTimeoutNanos = upstream.totalTimeoutMs() * 1_000_000;
    this.idleTimeoutNanos = upstream.idleTimeoutMs() * 1_000_000;
  }

  /**
   * Ends requests that exceeded the total time, or whose stream went quiet for longer than the idle timeout. One
   * sweep a second for all requests of this event loop, instead of timers per request: Vert.x's own request idle
   * timeout covers only the wait for the response head (connect and first byte).
   */
  public void sweepTimeouts() {
    if (active.isEmpty()) {
      return;
    }
    long now = System.nanoTime();
    for (Exchange ex : java.util.List.copyOf(active)) {
      String why = null;
      if (now - ex.startNanos > totalTimeoutNanos) {
        why = "total request time exceeded";
      } else if (ex.lastDataNanos > 0 && now - ex.lastDataNanos > idleTimeoutNanos) {
        why = "no data from the model server for " + (idleTimeoutNanos / 1_000_000) + " ms";
      }
      if (why != null && ex.upstream != null) {
        ex.upstream.reset(0, new TimeoutException(why));
      }
    }
  }

  public void handle(HttpServerRequest req, Operation op) {
    Exchange ex = new Exchange(req, op);
    Future<Buffer> body = BodyReader.read(req, maxBodyBytes);
    services.meters().inFlight().incrementAndGet();
    req.response().closeHandler(v -> clientGone(ex));
    services.keyCache().check(ApiKeys.bearerToken(req.getHeader(HttpHeaders.AUTHORIZATION)))
        .compose(check -> authorize(ex, check))
        .compose(v -> checkContentType(req))
        .compose(v -> body)
        .compose(buf -> parse(ex, buf))
        .compose(route -> limiter.acquire(ex.key.id(), ex.key.allowedRpm(), tpm(ex.key))
            .compose(decision -> admit(decision))
            .compose(v -> forward(ex, route, ex.hints, null)))
        .onFailure(err -> fail(ex, err));
  }

  // ---- checks, in the order a client sees their errors

  private Future<Void> authorize(Exchange ex, KeyCheck check) {
    return switch (check.outcome()) {
      case VALID -> {
        ex.key = check.key();
        yield Future.succeededFuture();
      }
      case MISSING -> Future.failedFuture(IngressFailure.unauthorized(
          "You didn't provide an API key. Send it as 'Authorization: Bearer sk-...'."));
      case DISABLED -> Future.failedFuture(IngressFailure.unauthorized("This API key has been disabled."));
      case EXPIRED -> Future.failedFuture(IngressFailure.unauthorized("This API key has expired."));
      case UNKNOWN -> Future.failedFuture(IngressFailure.unauthorized("Incorrect API key provided."));
    };
  }

  private static Future<Void> checkContentType(HttpServerRequest req) {
    String ct = req.getHeader(HttpHeaders.CONTENT_TYPE);
    // a missing Content-Type is taken as JSON (many hand-written clients omit it); any other type is refused
    if (ct == null || ct.regionMatches(true, 0, "application/json", 0, 16)) {
      return Future.succeededFuture();
    }
    return Future.failedFuture(IngressFailure.unsupportedMediaType(ct));
  }

  private Future<ModelRoute> parse(Exchange ex, Buffer raw) {
    if (raw.length() == 0) {
      return Future.failedFuture(IngressFailure.badJson("The request body is empty; expected a JSON object."));
    }
    JsonObject json;
    try {
      json = new JsonObject(raw);
    } catch (DecodeException | ClassCastException e) {
      return Future.failedFuture(IngressFailure.badJson("The request body is not valid JSON: " + shortMessage(e)));
    }
    IngressFailure invalid = RequestValidator.validate(ex.op, json);
    if (invalid != null) {
      return Future.failedFuture(invalid);
    }
    ex.body = json;
    ex.model = json.getString("model");
    ModelRoute route = services.registry().model(ex.model);
    ApiKeyRow key = ex.key;
    if (route == null || (key.models() != null && !key.models().contains(ex.model))) {
      ex.model = route == null ? null : ex.model; // do not label records with arbitrary client strings
      return Future.failedFuture(IngressFailure.modelNotFound(json.getString("model")));
    }
    ex.stream = ex.op.canStream() && Boolean.TRUE.equals(json.getValue("stream"));
    if (ex.stream) {
      JsonObject options = json.getValue("stream_options") instanceof JsonObject o ? o : null;
      ex.clientWantsUsage = options != null && Boolean.TRUE.equals(options.getValue("include_usage"));
      if (ex.clientWantsUsage) {
        ex.upstreamBody = raw;
      } else {
        // ask vLLM for the usage chunk so the record has token counts; SseRelay drops it again for this client
        Buffer spliced = options == null ? withIncludeUsage(raw) : null;
        if (spliced != null) {
          ex.upstreamBody = spliced;
        } else {
          if (options == null) {
            options = new JsonObject();
            json.put("stream_options", options);
          }
          options.put("include_usage", true);
          ex.upstreamBody = json.toBuffer();
        }
      }
    } else {
      ex.upstreamBody = raw;
    }
    if (route.affinity() && ex.op != Operation.EMBEDDINGS) {
      ex.hints = affinity(ex, json);
    }
    if (storeContent) {
      Object prompt = switch (ex.op) {
        case CHAT -> json.getValue("messages");
        case COMPLETIONS -> json.getValue("prompt");
        case EMBEDDINGS -> json.getValue("input");
      };
      ex.input = truncate(prompt instanceof String s ? s : String.valueOf(prompt));
    }
    return Future.succeededFuture(route);
  }

  private static final Buffer INCLUDE_USAGE = Buffer.buffer(",\"stream_options\":{\"include_usage\":true}");

  /**
   * The client's body with {@code "stream_options":{"include_usage":true}} spliced in before its closing brace: the
   * body is otherwise forwarded byte for byte, and a long prompt is not re-encoded. Null if the body does not end
   * with a brace (then the caller re-encodes).
   */
  static Buffer withIncludeUsage(Buffer raw) {
    int end = raw.length() - 1;
    while (end >= 0 && Character.isWhitespace(raw.getByte(end))) {
      end--;
    }
    if (end < 1 || raw.getByte(end) != '}') {
      return null;
    }
    return Buffer.buffer(raw.length() + INCLUDE_USAGE.length())
        .appendBuffer(raw, 0, end).appendBuffer(INCLUDE_USAGE).appendBuffer(raw, end, raw.length() - end);
  }

  /**
   * The affinity key: a session header or the OpenAI {@code user} field keeps a conversation on one replica; otherwise
   * the model and the first characters of the conversation, so requests sharing a prompt prefix meet vLLM's cache.
   */
  private RouteHints affinity(Exchange ex, JsonObject json) {
    String session = ex.request.getHeader("x-session-id");
    Object user = json.getValue("user");
    StringBuilder key = new StringBuilder(Math.min(affinityChars, 1024) + 64).append(ex.model).append('\u0000');
    if (session != null && !session.isBlank()) {
      key.append("s:").append(session);
    } else if (user instanceof String u && !u.isBlank()) {
      key.append("u:").append(u);
    } else if (json.getValue("messages") instanceof io.vertx.core.json.JsonArray messages) {
      for (int i = 0; i < messages.size() && key.length() < affinityChars; i++) {
        if (messages.getValue(i) instanceof JsonObject m) {
          key.append(m.getValue("role")).append(':');
          Object content = m.getValue("content");
          key.append(content instanceof String text ? text : String.valueOf(content)).append('\n');
        }
      }
    } else {
      Object prompt = json.getValue("prompt");
      key.append(prompt instanceof String text ? text : String.valueOf(prompt));
    }
    if (key.length() > affinityChars) {
      key.setLength(affinityChars);
    }
    return new RouteHints(PrefixAffinity.hash(key), true, java.util.Set.of());
  }

  private static Future<Void> admit(LimitDecision decision) {
    if (decision.allowed()) {
      return Future.succeededFuture();
    }
    if (decision.unavailable()) {
      return Future.failedFuture(IngressFailure.limiterUnavailable());
    }
    return Future.failedFuture(IngressFailure.rateLimited(decision.limit(), decision.retryAfterMs()));
  }

  // ---- routing and fail-over

  /**
   * Sends the request to a replica the router chooses; on a failure that reached nothing of the client (connect
   * error, connection closed before an answer, a 503, or no first byte in time), tries another replica, up to
   * {@code router.maxAttempts} replicas in all.
   */
  private Future<Void> forward(Exchange ex, ModelRoute route, RouteHints hints, IngressFailure lastFailure) {
    if (ex.finished()) {
      return Future.succeededFuture();
    }
    Choice choice = services.router().choose(route, hints);
    ReplicaState replica = choice.replica();
    if (replica == null) {
      if (lastFailure != null) {
        return Future.failedFuture(lastFailure);
      }
      return Future.failedFuture(choice.allBusy() ? IngressFailure.replicasBusy(route.name(), choice.retryAfterMs())
          : IngressFailure.noReplica(route.name()));
    }
    ex.replica = replica;
    ex.attempts++;
    replica.requestStarted();
    ex.replicaHeld = true;
    return send(ex, replica)
        .recover(err -> {
          releaseReplica(ex);
          IngressFailure f = OpenAiErrors.classify(err);
          if (ex.finished()) {
            replica.breaker().release(); // the client left first: no verdict on the replica
            return Future.failedFuture(f);
          }
          boolean severe = "upstream_unreachable".equals(f.code()) || "upstream_timeout".equals(f.code());
          replica.failed(System.currentTimeMillis(), severe, f.getMessage());
          if (f.retryable() && !ex.request.response().headWritten() && ex.attempts < maxAttempts) {
            replica.countRetry();
            services.meters().failover(route.name());
            return forward(ex, route, hints.excluding(replica.id()), f).map(v -> (HttpClientResponse) null);
          }
          return Future.failedFuture(f);
        })
        .compose(resp -> {
          if (resp == null) {
            return Future.succeededFuture();
          }
          replica.succeeded(); // it answered (a 4xx is the request's fault, not the replica's)
          return relay(ex, resp);
        });
  }

  private Future<HttpClientResponse> send(Exchange ex, ReplicaState replica) {
    RequestOptions options = new RequestOptions()
        .setMethod(HttpMethod.POST)
        .setHost(replica.target().host())
        .setPort(replica.target().port())
        .setSsl(replica.target().ssl())
        .setURI(replica.target().uri(ex.op.upstreamPath()))
        .setConnectTimeout(upstream.connectTimeoutMs())
        .setIdleTimeout(upstream.firstByteTimeoutMs())
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .putHeader(HttpHeaders.ACCEPT, ex.stream ? "text/event-stream" : "application/json")
        .putHeader("x-request-id", ex.requestId);
    return client.request(options)
        .compose(creq -> {
          ex.upstream = creq;
          if (ex.finished()) {
            creq.reset();
            return Future.failedFuture(IngressFailure.upstreamUnreachable("client went away"));
          }
          active.add(ex);
          return creq.send(ex.upstreamBody);
        })
        .compose(resp -> {
          if (resp.statusCode() >= 500) {
            // drain it so the connection can be reused, then let the caller try another replica
            return resp.body().transform(ar -> Future.failedFuture(IngressFailure.upstreamError(resp.statusCode())));
          }
          return Future.succeededFuture(resp);
        });
  }

  // ---- relaying the answer

  private Future<Void> relay(Exchange ex, HttpClientResponse resp) {
    ex.headReceived = true;
    ex.lastDataNanos = System.nanoTime(); // the idle watchdog starts counting from the response head
    String contentType = resp.getHeader(HttpHeaders.CONTENT_TYPE);
    boolean eventStream = contentType != null && contentType.startsWith("text/event-stream");
    if (ex.stream && resp.statusCode() == 200 && eventStream) {
      return relayStream(ex, resp);
    }
    return resp.body().map(buf -> {
      ex.markFirstByte();
      int status = resp.statusCode();
      String error = null;
      if (status == 200) {
        readUsage(ex, buf);
      } else {
        error = "upstream HTTP " + status + ": " + truncate(buf.toString());
      }
      HttpServerResponse out = ex.request.response();
      if (!out.closed() && !out.ended()) {
        out.setStatusCode(status)
            .putHeader(HttpHeaders.CONTENT_TYPE, contentType == null ? "application/json" : contentType)
            .putHeader("x-request-id", ex.requestId)
            .end(buf);
      }
      complete(ex, status, error);
      return null;
    });
  }

  private void readUsage(Exchange ex, Buffer buf) {
    try {
      if (!storeContent) {
        // only the usage object is needed: parse that, not the whole answer
        JsonObject usage = SseRelay.usageObject(buf);
        if (usage != null) {
          ex.usage(usage);
          return;
        }
      }
      JsonObject answer = new JsonObject(buf);
      ex.usage(answer.getValue("usage") instanceof JsonObject u ? u : null);
      if (storeContent && answer.getValue("choices") != null) {
        ex.output = truncate(answer.getValue("choices").toString());
      }
    } catch (DecodeException | ClassCastException e) {
      // not JSON: relay it anyway, the record just has no token counts
    }
  }

  private Future<Void> relayStream(Exchange ex, HttpClientResponse resp) {
    HttpServerResponse out = ex.request.response();
    out.setStatusCode(200)
        .putHeader(HttpHeaders.CONTENT_TYPE, "text/event-stream; charset=utf-8")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache")
        .putHeader("x-accel-buffering", "no")
        .putHeader("x-request-id", ex.requestId)
        .setChunked(true);
    SseRelay relay = new SseRelay(ex.clientWantsUsage, storeContent, buf -> {
      if (!out.closed() && !out.ended()) {
        out.write(buf);
      }
    });
    ex.relay = relay;
    resp.handler(chunk -> {
      if (out.closed()) {
        clientGone(ex); // noticed before the close handler ran
        return;
      }
      ex.markFirstByte();
      relay.feed(chunk);
      if (out.writeQueueFull()) {
        resp.pause();
        out.drainHandler(v -> resp.resume());
      }
    });
    resp.exceptionHandler(err -> streamBroken(ex, relay, err.getMessage() == null ? err.toString() : err.getMessage()));
    resp.endHandler(v -> {
      relay.flushRemainder();
      if (!relay.sawDone()) {
        streamBroken(ex, relay, "the model server ended the stream early");
        return;
      }
      streamUsage(ex, relay);
      if (!out.ended() && !out.closed()) {
        out.end();
      }
      complete(ex, 200, relay.upstreamError());
    });
    return Future.succeededFuture();
  }

  /** A stream that broke after the client got its first byte: end it with an error event, record it as failed. */
  private void streamBroken(Exchange ex, SseRelay relay, String reason) {
    if (ex.finished()) {
      return;
    }
    if (relay.sawDone()) {
      // everything reached the client already; only the upstream connection's end went wrong
      streamUsage(ex, relay);
      complete(ex, 200, relay.upstreamError());
      return;
    }
    if (ex.request.response().closed()) {
      clientGone(ex);
      return;
    }
    streamUsage(ex, relay);
    HttpServerResponse out = ex.request.response();
    if (!out.ended() && !out.closed()) {
      IngressFailure f = new IngressFailure(502, "upstream_error", "stream_interrupted", null,
          "The model server stopped the stream before it was complete: " + reason, 0, false);
      out.end(Buffer.buffer("data: ").appendBuffer(OpenAiErrors.body(f)).appendString("\n\n"));
    }
    if (ex.replica != null) {
      ex.replica.failed(System.currentTimeMillis(), false, "stream interrupted: " + reason);
    }
    complete(ex, 502, "stream interrupted: " + reason);
    if (ex.upstream != null) {
      ex.upstream.reset();
    }
  }

  /** Usage of a stream: vLLM's usage chunk if it came, else an estimate from the events relayed so far. */
  private void streamUsage(Exchange ex, SseRelay relay) {
    if (relay.usage() != null) {
      ex.usage(relay.usage());
    } else {
      ex.completionTokens = Math.max(0, relay.choiceEvents() - 1); // the first event only carries the role
      ex.totalTokens = ex.promptTokens + ex.completionTokens;
    }
    if (storeContent) {
      ex.output = truncate(relay.content());
    }
  }

  // ---- endings

  private void clientGone(Exchange ex) {
    if (ex.finished()) {
      return;
    }
    if (ex.relay != null) {
      streamUsage(ex, ex.relay);
    }
    boolean answered = ex.headReceived;
    // finish first: the reset below fails the upstream call, which must not count against the replica
    complete(ex, 499, "client closed the connection");
    if (ex.upstream != null) {
      ex.upstream.reset(); // tells vLLM to stop generating
    }
    if (ex.replica != null && !answered) {
      ex.replica.breaker().release(); // no verdict on the replica; free its probe if it held one
    }
  }

  private void fail(Exchange ex, Throwable err) {
    IngressFailure f = OpenAiErrors.classify(err);
    OpenAiErrors.send(ex.request.response(), f);
    if (f.status() == 401) {
      // no key, nothing to bill: count it, but keep unauthenticated traffic out of the usage table
      ex.abandon();
      services.meters().inFlight().decrementAndGet();
      services.meters().unauthorized().increment();
      return;
    }
    complete(ex, f.status(), f.getMessage());
  }

  private void complete(Exchange ex, int status, String error) {
    UsageRecord record = ex.finish(status, error);
    if (record == null) {
      return;
    }
    active.remove(ex);
    releaseReplica(ex);
    services.meters().inFlight().decrementAndGet();
    if (ex.key != null && record.totalTokens() > 0) {
      limiter.chargeTokens(ex.key.id(), tpm(ex.key), record.totalTokens());
    }
    usage.add(record);
  }

  private static void releaseReplica(Exchange ex) {
    if (ex.replicaHeld) {
      ex.replicaHeld = false;
      ex.replica.requestEnded();
    }
  }

  private static int tpm(ApiKeyRow key) {
    return key.allowedTpm() == null ? 0 : key.allowedTpm();
  }

  private String truncate(String s) {
    if (s == null) {
      return null;
    }
    return s.length() <= contentMaxChars ? s : s.substring(0, contentMaxChars);
  }

  private static String shortMessage(Exception e) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    int nl = m.indexOf('\n');
    m = nl > 0 ? m.substring(0, nl) : m;
    return m.length() > 200 ? m.substring(0, 200) : m;
  }
}
