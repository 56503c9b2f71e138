package io.inferencegateway.simulator;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;

/**
 * One inference request from arrival to its last byte: slow start, injected fault, validation, then either
 * a slot from the instant {@link Engine} with tokens on Vert.x timers, or a sequence in the model's faithful
 * {@link BatchEngine}, which calls {@link #token()} once per step that produces a token.
 *
 * <p>Confined to the verticle's event loop. Every path out sets {@link Phase#DONE} first, so a
 * connection that closes afterwards changes nothing.
 */
final class Exchange implements BatchEngine.Listener {

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
  /** The model's faithful engine, or null for the instant one. */
  private final Function<String, BatchEngine> faithful;

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
  private int dropAt = -1;
  private long arrivalNanos;
  /** The faithful engine's sequence of this request, null with the instant engine. */
  private BatchEngine.Sequence sequence;
  private BatchEngine batch;

  Exchange(Vertx vertx, Engine engine, Prepared prepared, HttpServerRequest http, Endpoint endpoint,
      Fault fault, boolean drop, Function<String, BatchEngine> faithful) {
    this.vertx = vertx;
    this.engine = engine;
    this.prepared = prepared;
    this.http = http;
    this.response = http.response();
    this.endpoint = endpoint;
    this.fault = fault;
    this.drop = drop;
    this.faithful = faithful;
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
    boolean batched = faithful != null && endpoint != Endpoint.EMBEDDINGS;
    try {
      request = InferenceRequest.parse(endpoint, body, prepared.settings, prepared.models, batched);
    } catch (ApiError e) {
      fail(e);
      return;
    }
    arrivalNanos = System.nanoTime();
    counters = engine.model(request.model);
    quotedModel = prepared.quotedModels.get(request.model);
    created = System.currentTimeMillis() / 1000;
    // Like vLLM, a caller's X-Request-Id becomes the response id.
    String requestId = http.getHeader("X-Request-Id");
    id = endpoint.idPrefix + (requestId != null ? requestId : JsonText.randomHex(ThreadLocalRandom.current()));
    longest = request.longestCompletion();
    dropAt = drop && longest > 0 ? Math.max(1, longest / 2) : -1;
    if (request.stream) {
      response.setChunked(true).putHeader(HttpHeaders.CONTENT_TYPE, EVENT_STREAM);
      head = OpenAiBodies.eventHead(id, endpoint.chunkObject, created, quotedModel);
    }
    if (batched) {
      submitBatched();
    } else {
      engine.submit(this);
    }
  }

  private void submitBatched() {
    batch = faithful.apply(request.model);
    counters.promptTokens.addAndGet(request.totalPromptTokens());
    phase = Phase.RUNNING;
    if (request.stream) {
      // vLLM answers the headers of a stream before the engine schedules the request.
      response.writeHead();
    }
    int start = request.answerStart[0];
    int from = request.answered[0];
    sequence = batch.submit(request.tokenIds, request.n * request.promptTokens.length, longest,
        j -> Words.answerTokenId(start, 0, from + j), request.cacheSalt, this);
  }

  /** The faithful engine produced the next token of every choice still generating. */
  @Override
  public void token() {
    if (phase != Phase.RUNNING) {
      return;
    }
    if (!request.stream) {
      position++;
      return;
    }
    Buffer buf = Buffer.buffer(4 * request.n * request.promptTokens.length * (head.length + 96));
    if (position == 0) {
      appendStart(buf);
    }
    int k = position++;
    counters.generationTokens.addAndGet(appendTokens(buf, k));
    if (position == dropAt) {
      dropConnection(buf);
      return;
    }
    appendFinishes(buf, k);
    response.write(buf);
  }

  /** The faithful engine has produced the whole answer. */
  @Override
  public void done() {
    if (phase != Phase.RUNNING) {
      return;
    }
    if (!request.stream) {
      complete();
      return;
    }
    Buffer buf = Buffer.buffer(2 * (head.length + 160));
    if (position == 0) {
      appendStart(buf);
    }
    endStream(buf);
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
    if (endpoint != Endpoint.EMBEDDINGS) {
      // The instant engine's time to first token: the wait for a slot plus the configured delay.
      counters.ttft.observe((System.nanoTime() - arrivalNanos) / 1e9 + s.timeToFirstTokenMs() / 1000.0);
    }
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
      delay += s.interTokenMs() * Math.max(0, longest - 1);
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
    int cached = cachedTokens();
    Buffer body = switch (endpoint) {
      case CHAT -> OpenAiBodies.chatCompletion(id, created, quotedModel, request, cached);
      case COMPLETIONS -> OpenAiBodies.textCompletion(id, created, quotedModel, request, cached);
      case EMBEDDINGS -> OpenAiBodies.embeddings(id, created, quotedModel, request);
    };
    counters.generationTokens.addAndGet(request.totalCompletionTokens());
    phase = Phase.DONE;
    engine.completed.incrementAndGet();
    response.putHeader(HttpHeaders.CONTENT_TYPE, JSON).end(body);
    finished();
  }

  /** Prompt tokens the faithful engine found in its prefix cache; -1 with the instant engine (no cache). */
  private int cachedTokens() {
    return sequence == null ? -1 : sequence.cachedTokens();
  }

  /** The instant engine's slot is free again (the faithful engine let go of the sequence itself). */
  private void finished() {
    if (sequence == null) {
      counters.e2e.observe((System.nanoTime() - arrivalNanos) / 1e9);
      engine.release(this);
    }
  }

  /** Emits the next token (all remaining ones when there is no inter-token delay). */
  private void tick() {
    timerId = -1;
    if (phase != Phase.RUNNING) {
      return;
    }
    long itl = prepared.settings.interTokenMs();
    // Sized for the whole stream when it goes out in one write, else for one tick.
    int events = itl == 0 ? longest - position + 3 : 3;
    Buffer buf = Buffer.buffer(events * request.n * request.promptTokens.length * (head.length + 96));
    if (position == 0) {
      appendStart(buf);
    }
    long generated = 0;
    while (position < longest) {
      int k = position++;
      generated += appendTokens(buf, k);
      if (position == dropAt) {
        counters.generationTokens.addAndGet(generated);
        dropConnection(buf);
        return;
      }
      appendFinishes(buf, k);
      if (itl > 0) {
        break;
      }
    }
    counters.generationTokens.addAndGet(generated);
    if (position < longest) {
      response.write(buf);
      timerId = vertx.setTimer(itl, t -> tick());
      return;
    }
    endStream(buf);
  }

  /** The role events of a chat stream, and the finish events of prompts with nothing left to generate. */
  private void appendStart(Buffer buf) {
    InferenceRequest r = request;
    boolean chat = endpoint == Endpoint.CHAT;
    if (chat) {
      for (int c = 0; c < r.n; c++) {
        OpenAiBodies.chatRole(buf, head, c, r.promptTokens[0], r.continuousUsage);
      }
    }
    for (int p = 0; p < r.promptTokens.length; p++) {
      if (r.completionTokens[p] == 0) {
        appendFinish(buf, p, 0);
      }
    }
  }

  /** The token events of answer position {@code k} (of every prompt and choice that has one); returns their count. */
  private int appendTokens(Buffer buf, int k) {
    InferenceRequest r = request;
    boolean chat = endpoint == Endpoint.CHAT;
    int n = r.n;
    int generated = 0;
    for (int p = 0; p < r.promptTokens.length; p++) {
      if (k >= r.completionTokens[p]) {
        continue;
      }
      int start = r.answerStart[p];
      int word = r.answered[p] + k;
      for (int c = 0; c < n; c++) {
        int index = p * n + c;
        byte[] token = Words.tokenJson(start, c, word, chat);
        if (chat) {
          OpenAiBodies.chatToken(buf, head, index, token, r.promptTokens[p], k + 1, r.continuousUsage);
        } else {
          OpenAiBodies.textToken(buf, head, index, token, r.promptTokens[p], k + 1, r.continuousUsage);
        }
        generated++;
      }
    }
    return generated;
  }

  /** The finish events of the prompts whose answer ends at position {@code k}. */
  private void appendFinishes(Buffer buf, int k) {
    for (int p = 0; p < request.promptTokens.length; p++) {
      if (k == request.completionTokens[p] - 1) {
        appendFinish(buf, p, k + 1);
      }
    }
  }

  private void appendFinish(Buffer buf, int p, int tokens) {
    InferenceRequest r = request;
    for (int c = 0; c < r.n; c++) {
      int index = p * r.n + c;
      if (endpoint == Endpoint.CHAT) {
        OpenAiBodies.chatFinish(buf, head, index, r.finishReasons[p], r.promptTokens[p], tokens, r.continuousUsage);
      } else {
        OpenAiBodies.textFinish(buf, head, index, r.finishReasons[p], r.promptTokens[p], tokens, r.continuousUsage);
      }
    }
  }

  /** Usage (when asked for) and {@code [DONE]}: the stream is complete. */
  private void endStream(Buffer buf) {
    if (request.includeUsage) {
      OpenAiBodies.usageEvent(buf, head, request.totalPromptTokens(), request.totalCompletionTokens(),
          cachedTokens());
    }
    buf.appendBytes(OpenAiBodies.DONE);
    phase = Phase.DONE;
    engine.completed.incrementAndGet();
    response.end(buf);
    finished();
  }

  /** The drop fault: send what was generated, then cut the connection without ending the stream. */
  private void dropConnection(Buffer partial) {
    phase = Phase.DONE;
    engine.fault("drop");
    response.write(partial).onComplete(ar -> response.reset());
    if (sequence != null) {
      batch.abort(sequence);
    } else {
      engine.release(this);
    }
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
    if (sequence != null) {
      batch.abort(sequence);
    } else if (was == Phase.QUEUED) {
      engine.withdraw(this);
    } else if (was == Phase.RUNNING) {
      engine.release(this);
    }
  }
}
