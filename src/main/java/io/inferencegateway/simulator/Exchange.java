package io.inferencegateway.simulator;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ThreadLocalRandom;

/**
 * One inference request from arrival to its last byte: slow start, injected fault, validation, a slot
 * from the {@link Engine}, time to first token, then tokens on Vert.x timers.
 *
 * <p>Confined to the verticle's event loop. Every path out sets {@link Phase#DONE} first, so a
 * connection that closes afterwards changes nothing.
 */
final class Exchange {

  private static final Logger LOG = LoggerFactory.getLogger(Exchange.class);

  static final CharSequence JSON = HttpHeaders.createOptimized("application/json");
  static final CharSequence EVENT_STREAM = HttpHeaders.createOptimized("text/event-stream; charset=utf-8");

  enum Fault { NONE, ERROR, UNAVAILABLE, HANG }

  private enum Phase { PENDING, QUEUED, RUNNING, HUNG, DONE }

  private final Vertx vertx;
  private final Engine engine;
  private final Prepared prepared;
  private final HttpServerRequest http;
  private final HttpServerResponse response;
  private final Endpoint endpoint;
  private final Fault fault;
  private final boolean drop;

  InferenceRequest request;
  Engine.ModelCounters counters;

  private Phase phase = Phase.PENDING;
  private long timerId = -1;
  private String id;
  private long created;
  private String quotedModel;

  // Streaming state: the shared event prefix, the next token position and the longest answer.
  private byte[] head;
  private int position;
  private int longest;

  Exchange(Vertx vertx, Engine engine, Prepared prepared, HttpServerRequest http, Endpoint endpoint,
      Fault fault, boolean drop) {
    this.vertx = vertx;
    this.engine = engine;
    this.prepared = prepared;
    this.http = http;
    this.response = http.response();
    this.endpoint = endpoint;
    this.fault = fault;
    this.drop = drop;
  }

  void begin() {
    response.closeHandler(v -> clientGone());
    http.body().onComplete(ar -> {
      if (ar.failed()) {
        // The client went away (or broke the framing) before its body arrived.
        LOG.debug("request body failed", ar.cause());
        clientGone();
      } else if (prepared.settings.slowStartMs() > 0) {
        timerId = vertx.setTimer(prepared.settings.slowStartMs(), t -> {
          timerId = -1;
          decide(ar.result());
        });
      } else {
        decide(ar.result());
      }
    });
  }

  private void decide(Buffer body) {
    if (phase != Phase.PENDING) {
      return;
    }
    switch (fault) {
      case HANG -> {
        engine.fault("hang");
        phase = Phase.HUNG;
        return;
      }
      case ERROR -> {
        engine.fault("error");
        fail(new ApiError(500, "InternalServerError",
            "EngineCore encountered an issue. See stack trace (above) for the root cause.", null));
        return;
      }
      case UNAVAILABLE -> {
        engine.fault("unavailable");
        fail(new ApiError(503, "ServiceUnavailableError",
            "The server is temporarily unable to handle the request.", null));
        return;
      }
      default -> {
      }
    }
    try {
      request = InferenceRequest.parse(endpoint, body, prepared.settings, prepared.models);
    } catch (ApiError e) {
      fail(e);
      return;
    }
    counters = engine.model(request.model);
    quotedModel = prepared.quotedModels.get(request.model);
    created = System.currentTimeMillis() / 1000;
    // Like vLLM, a caller's X-Request-Id becomes the response id.
    String requestId = http.getHeader("X-Request-Id");
    id = endpoint.idPrefix + (requestId != null ? requestId : JsonText.randomHex(ThreadLocalRandom.current()));
    if (request.stream) {
      response.setChunked(true).putHeader(HttpHeaders.CONTENT_TYPE, EVENT_STREAM);
      head = OpenAiBodies.eventHead(id, endpoint.chunkObject, created, quotedModel);
      for (int t : request.completionTokens) {
        longest = Math.max(longest, t);
      }
    }
    engine.submit(this);
  }

  boolean isQueued() {
    return phase == Phase.QUEUED;
  }

  /** Called by the engine when no slot is free. */
  void queued() {
    phase = Phase.QUEUED;
    if (request.stream) {
      // vLLM answers the headers of a stream before the engine schedules the request.
      response.writeHead();
    }
  }

  /** Called by the engine once this request holds a slot. */
  void run() {
    phase = Phase.RUNNING;
    SimulatorSettings s = prepared.settings;
    if (request.stream) {
      if (s.timeToFirstTokenMs() > 0) {
        if (!response.headWritten()) {
          response.writeHead();
        }
        timerId = vertx.setTimer(s.timeToFirstTokenMs(), t -> tick());
      } else {
        tick();
      }
      return;
    }
    long delay = s.timeToFirstTokenMs();
    if (endpoint != Endpoint.EMBEDDINGS) {
      int tokens = 0;
      for (int t : request.completionTokens) {
        tokens = Math.max(tokens, t);
      }
      delay += s.interTokenMs() * Math.max(0, tokens - 1);
    }
    if (delay > 0) {
      timerId = vertx.setTimer(delay, t -> complete());
    } else {
      complete();
    }
  }

  private void complete() {
    timerId = -1;
    if (phase != Phase.RUNNING) {
      return;
    }
    Buffer body = switch (endpoint) {
      case CHAT -> OpenAiBodies.chatCompletion(id, created, quotedModel, request);
      case COMPLETIONS -> OpenAiBodies.textCompletion(id, created, quotedModel, request);
      case EMBEDDINGS -> OpenAiBodies.embeddings(id, created, quotedModel, request);
    };
    counters.generationTokens.addAndGet(request.totalCompletionTokens());
    phase = Phase.DONE;
    engine.completed.incrementAndGet();
    response.putHeader(HttpHeaders.CONTENT_TYPE, JSON).end(body);
    engine.release(this);
  }

  /** Emits the next token (all remaining ones when there is no inter-token delay). */
  private void tick() {
    timerId = -1;
    if (phase != Phase.RUNNING) {
      return;
    }
    InferenceRequest r = request;
    boolean chat = endpoint == Endpoint.CHAT;
    boolean usage = r.continuousUsage;
    int n = r.n;
    int prompts = r.promptTokens.length;
    long itl = prepared.settings.interTokenMs();
    // Sized for the whole stream when it goes out in one write, else for one tick.
    int events = itl == 0 ? longest - position + 3 : 3;
    Buffer buf = Buffer.buffer(events * n * prompts * (head.length + 96));
    if (position == 0 && chat) {
      for (int c = 0; c < n; c++) {
        OpenAiBodies.chatRole(buf, head, c, r.promptTokens[0], usage);
      }
    }
    int dropAt = drop ? Math.max(1, longest / 2) : -1;
    long generated = 0;
    do {
      int k = position++;
      for (int p = 0; p < prompts; p++) {
        if (k >= r.completionTokens[p]) {
          continue;
        }
        for (int c = 0; c < n; c++) {
          int index = p * n + c;
          byte[] token = Words.tokenJson(index, k);
          if (chat) {
            OpenAiBodies.chatToken(buf, head, index, token, r.promptTokens[p], k + 1, usage);
          } else {
            OpenAiBodies.textToken(buf, head, index, token, r.promptTokens[p], k + 1, usage);
          }
          generated++;
        }
      }
      if (position == dropAt) {
        counters.generationTokens.addAndGet(generated);
        dropConnection(buf);
        return;
      }
      for (int p = 0; p < prompts; p++) {
        if (k != r.completionTokens[p] - 1) {
          continue;
        }
        for (int c = 0; c < n; c++) {
          int index = p * n + c;
          if (chat) {
            OpenAiBodies.chatFinish(buf, head, index, r.finishReasons[p], r.promptTokens[p], k + 1, usage);
          } else {
            OpenAiBodies.textFinish(buf, head, index, r.finishReasons[p], r.promptTokens[p], k + 1, usage);
          }
        }
      }
    } while (position < longest && itl == 0);
    counters.generationTokens.addAndGet(generated);
    if (position < longest) {
      response.write(buf);
      timerId = vertx.setTimer(itl, t -> tick());
      return;
    }
    if (r.includeUsage) {
      OpenAiBodies.usageEvent(buf, head, r.totalPromptTokens(), r.totalCompletionTokens());
    }
    buf.appendBytes(OpenAiBodies.DONE);
    phase = Phase.DONE;
    engine.completed.incrementAndGet();
    response.end(buf);
    engine.release(this);
  }

  /** The drop fault: send what was generated, then cut the connection without ending the stream. */
  private void dropConnection(Buffer partial) {
    phase = Phase.DONE;
    engine.fault("drop");
    response.write(partial).onComplete(ar -> response.reset());
    engine.release(this);
  }

  private void fail(ApiError e) {
    phase = Phase.DONE;
    engine.completed.incrementAndGet();
    response.setStatusCode(e.status).putHeader(HttpHeaders.CONTENT_TYPE, JSON).end(JsonText.error(e));
  }

  /** The connection closed before the response was finished. */
  private void clientGone() {
    Phase was = phase;
    if (was == Phase.DONE) {
      return;
    }
    phase = Phase.DONE;
    if (timerId >= 0) {
      vertx.cancelTimer(timerId);
      timerId = -1;
    }
    engine.cancelled.incrementAndGet();
    if (was == Phase.QUEUED) {
      engine.withdraw(this);
    } else if (was == Phase.RUNNING) {
      engine.release(this);
    }
  }
}
