package io.inferencegateway.simulator;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * A stand-in for vLLM's OpenAI-compatible server: same paths, JSON and SSE framing, with configurable
 * latency, a {@code maxNumSeqs} scheduler and injected faults. Control endpoints live under {@code /sim/}.
 * With {@code engine: faithful} each model gets a {@link BatchEngine} (continuous batching, prefix cache,
 * modelled step times) instead of the fixed latencies.
 *
 * <p>Routing is a switch on the path rather than a vertx-web Router: the benchmark sends tens of
 * thousands of requests a second through here, and the handful of fixed paths needs no more.
 */
public class SimulatorVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(SimulatorVerticle.class);

  private static final CharSequence PROMETHEUS = HttpHeaders.createOptimized("text/plain; version=0.0.4; charset=utf-8");

  private final int port;
  private final String host;
  /** vLLM's {@code --api-key}: {@code /v1/*} needs {@code Authorization: Bearer} with it; null: no key. */
  private final String apiKeyHeader;
  private final Engine engine;
  private volatile Prepared prepared;
  private HttpServer server;
  /** The faithful engines, one per model as if each were its own vLLM server; event loop only. */
  private final Map<String, BatchEngine> batchEngines = new HashMap<>();
  private final Function<String, BatchEngine> batchEngineOf = this::batchEngine;
  private StepClock stepClock;

  /** Listens on all interfaces, like vLLM's default {@code --host 0.0.0.0}. Port 0 picks a free port. */
  public SimulatorVerticle(int port, SimulatorSettings settings) {
    this(port, settings, "0.0.0.0");
  }

  public SimulatorVerticle(int port, SimulatorSettings settings, String host) {
    this(port, settings, host, null);
  }

  /** As vLLM with {@code --api-key apiKey} (null: none): {@code /v1/*} answers 401 without it, the rest stays open. */
  public SimulatorVerticle(int port, SimulatorSettings settings, String host, String apiKey) {
    this.apiKeyHeader = apiKey == null ? null : "Bearer " + apiKey;
    this.port = port;
    this.host = Objects.requireNonNull(host, "host");
    this.prepared = new Prepared(Objects.requireNonNull(settings, "settings"));
    this.engine = new Engine(() -> prepared.settings.maxNumSeqs());
  }

  @Override
  public Future<?> start() {
    stepClock = StepClock.of(context);
    server = vertx.createHttpServer(new HttpServerOptions().setPort(port).setHost(host))
        .requestHandler(this::handle);
    return server.listen()
        .onSuccess(s -> LOG.info("vLLM simulator listening on {}:{} serving {}", host, s.actualPort(),
            prepared.settings.models()));
  }

  @Override
  public Future<?> stop() {
    // Closing drops open connections at once, so hung and streaming clients see the replica die.
    return server == null ? Future.succeededFuture() : server.close();
  }

  /** The port the server listens on; meaningful after start. */
  public int actualPort() {
    return server == null ? -1 : server.actualPort();
  }

  public SimulatorSettings settings() {
    return prepared.settings;
  }

  /**
   * Replaces the settings; requests already admitted keep the ones they started with (with the faithful
   * engine, the step budget, step times and KV capacity apply from the next step).
   */
  public void updateSettings(SimulatorSettings settings) {
    prepared = new Prepared(Objects.requireNonNull(settings, "settings"));
    if (context != null) {
      // A larger maxNumSeqs may admit queued requests; the queue belongs to the event loop.
      context.runOnContext(v -> {
        engine.drain();
        batchEngines.values().forEach(BatchEngine::settingsChanged);
      });
    }
    LOG.debug("simulator settings now {}", settings);
  }

  private BatchEngine batchEngine(String model) {
    BatchEngine e = batchEngines.get(model);
    if (e == null) {
      e = new BatchEngine(() -> prepared.settings, stepClock, engine, engine.model(model));
      batchEngines.put(model, e);
    }
    return e;
  }

  public SimulatorStats stats() {
    return engine.snapshot();
  }

  public long requests() {
    return engine.requests.get();
  }

  public long completed() {
    return engine.completed.get();
  }

  public long cancelled() {
    return engine.cancelled.get();
  }

  public int running() {
    return engine.running();
  }

  public int waiting() {
    return engine.waiting();
  }

  public Map<String, Long> byPath() {
    return engine.snapshot().byPath();
  }

  public void resetStats() {
    engine.resetStats();
  }

  private void handle(HttpServerRequest req) {
    String path = req.path();
    if (path.startsWith("/sim/")) {
      control(req, path);
      return;
    }
    if (apiKeyHeader != null && path.startsWith("/v1") && !authorized(req)) {
      engine.received("unauthorized");
      // vLLM's answer (api_server.py's authentication middleware)
      done(req).setStatusCode(401).putHeader(HttpHeaders.CONTENT_TYPE, Exchange.JSON)
          .end("{\"error\":\"Unauthorized\"}");
      return;
    }
    switch (path) {
      case "/v1/chat/completions" -> inference(req, Endpoint.CHAT);
      case "/v1/completions" -> inference(req, Endpoint.COMPLETIONS);
      case "/v1/embeddings" -> inference(req, Endpoint.EMBEDDINGS);
      case "/health" -> {
        engine.received(path);
        if (allowed(req, HttpMethod.GET)) {
          int status = prepared.settings.healthy() ? 200 : 503;
          done(req).setStatusCode(status).end();
        }
      }
      case "/v1/models" -> {
        engine.received(path);
        if (allowed(req, HttpMethod.GET)) {
          done(req).putHeader(HttpHeaders.CONTENT_TYPE, Exchange.JSON).end(Buffer.buffer(prepared.modelList));
        }
      }
      case "/metrics" -> {
        engine.received(path);
        if (allowed(req, HttpMethod.GET)) {
          done(req).putHeader(HttpHeaders.CONTENT_TYPE, PROMETHEUS).end(metrics());
        }
      }
      default -> {
        engine.received("other");
        notFound(req);
      }
    }
  }

  private boolean authorized(HttpServerRequest req) {
    String given = req.getHeader(HttpHeaders.AUTHORIZATION);
    return given != null && java.security.MessageDigest.isEqual(
        given.getBytes(java.nio.charset.StandardCharsets.UTF_8),
        apiKeyHeader.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  private void inference(HttpServerRequest req, Endpoint endpoint) {
    engine.received(endpoint.path);
    if (!allowed(req, HttpMethod.POST)) {
      return;
    }
    Prepared p = prepared;
    SimulatorSettings s = p.settings;
    // Draw only for the rates in use, so zero rates cost nothing; the seed keeps the draws reproducible.
    SplittableRandom rnd = p.faults;
    Exchange.Fault fault = Exchange.Fault.NONE;
    if (s.errorRate() > 0 && rnd.nextDouble() < s.errorRate()) {
      fault = Exchange.Fault.ERROR;
    } else if (s.unavailableRate() > 0 && rnd.nextDouble() < s.unavailableRate()) {
      fault = Exchange.Fault.UNAVAILABLE;
    } else if (s.hangRate() > 0 && rnd.nextDouble() < s.hangRate()) {
      fault = Exchange.Fault.HANG;
    }
    boolean drop = s.dropMidStreamRate() > 0 && rnd.nextDouble() < s.dropMidStreamRate();
    new Exchange(vertx, engine, p, req, endpoint, fault, drop, s.faithful() ? batchEngineOf : null).begin();
  }

  private boolean allowed(HttpServerRequest req, HttpMethod method) {
    if (req.method() == method) {
      return true;
    }
    done(req).setStatusCode(405).putHeader(HttpHeaders.ALLOW, method.name()).putHeader(HttpHeaders.CONTENT_TYPE, Exchange.JSON)
        .end(JsonText.error(405, "MethodNotAllowed", "Method Not Allowed", null));
    return false;
  }

  private void notFound(HttpServerRequest req) {
    done(req).setStatusCode(404).putHeader(HttpHeaders.CONTENT_TYPE, Exchange.JSON)
        .end(JsonText.error(404, "NotFoundError", "Not Found", null));
  }

  /** The response of a request answered at once, counted as completed. */
  private io.vertx.core.http.HttpServerResponse done(HttpServerRequest req) {
    engine.completed.incrementAndGet();
    return req.response();
  }

  private Buffer metrics() {
    SimulatorSettings s = prepared.settings;
    boolean faithful = s.faithful();
    double instantKv = Math.min(1.0, (double) engine.running() / s.maxNumSeqs());
    StringBuilder sb = new StringBuilder(2048 + 4096 * s.models().size());
    gauge(sb, s, "vllm:num_requests_running", "Number of requests in model execution batches.",
        m -> engine.model(m).running.get());
    gauge(sb, s, "vllm:num_requests_waiting", "Number of requests waiting to be processed.",
        m -> engine.model(m).waiting.get());
    gauge(sb, s, "vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", m -> {
      if (!faithful) {
        return instantKv;
      }
      BatchEngine e = batchEngines.get(m);
      return e == null ? 0 : e.kvUsage();
    });
    counter(sb, s, "vllm:prompt_tokens_total", "Number of prefill tokens processed.",
        m -> engine.model(m).promptTokens.get());
    counter(sb, s, "vllm:generation_tokens_total", "Number of generation tokens processed.",
        m -> engine.model(m).generationTokens.get());
    counter(sb, s, "vllm:prefix_cache_queries_total",
        "Prefix cache queries, in terms of number of queried tokens.", m -> engine.model(m).prefixQueries.get());
    counter(sb, s, "vllm:prefix_cache_hits_total",
        "Prefix cache hits, in terms of number of cached tokens.", m -> engine.model(m).prefixHits.get());
    counter(sb, s, "vllm:num_preemptions_total", "Cumulative number of preemption from the engine.",
        m -> engine.model(m).preemptions.get());
    histogram(sb, s, "vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.",
        m -> engine.model(m).ttft);
    histogram(sb, s, "vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.",
        m -> engine.model(m).e2e);
    if (faithful) {
      sb.append("# HELP vllm:cache_config_info Information of the LLMEngine CacheConfig\n")
          .append("# TYPE vllm:cache_config_info gauge\n");
      for (String m : s.models()) {
        sb.append("vllm:cache_config_info{block_size=\"").append(BlockPool.BLOCK_SIZE)
            .append("\",enable_prefix_caching=\"True\",model_name=\"");
        label(sb, m);
        sb.append("\",num_gpu_blocks=\"").append(s.kvCacheTokens() / BlockPool.BLOCK_SIZE).append("\"} 1.0\n");
      }
    }
    return Buffer.buffer(sb.toString());
  }

  private static void histogram(StringBuilder sb, SimulatorSettings s, String name, String help,
      Function<String, Histogram> of) {
    sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
    sb.append("# TYPE ").append(name).append(" histogram\n");
    for (String m : s.models()) {
      StringBuilder labels = new StringBuilder(m.length() + 16).append("model_name=\"");
      label(labels, m);
      of.apply(m).write(sb, name, labels.append('"').toString());
    }
  }

  private static void label(StringBuilder sb, String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '\\' -> sb.append("\\\\");
        case '"' -> sb.append("\\\"");
        case '\n' -> sb.append("\\n");
        default -> sb.append(c);
      }
    }
  }

  private static void gauge(StringBuilder sb, SimulatorSettings s, String name, String help,
      ToDoubleFunction<String> value) {
    series(sb, s, name, help, "gauge", value);
  }

  private static void counter(StringBuilder sb, SimulatorSettings s, String name, String help,
      ToDoubleFunction<String> value) {
    series(sb, s, name, help, "counter", value);
  }

  private static void series(StringBuilder sb, SimulatorSettings s, String name, String help, String type,
      ToDoubleFunction<String> value) {
    sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
    sb.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    for (String m : s.models()) {
      sb.append(name).append("{model_name=\"");
      label(sb, m);
      // Python's client prints floats: 3.0, not 3.
      sb.append("\"} ").append(value.applyAsDouble(m)).append('\n');
    }
  }

  private void control(HttpServerRequest req, String path) {
    switch (path) {
      case "/sim/settings" -> {
        if (req.method() == HttpMethod.GET) {
          json(req, 200, prepared.settings.toJson());
        } else if (req.method() == HttpMethod.POST) {
          req.body().onSuccess(body -> patchSettings(req, body));
        } else {
          controlError(req, 405, "Use GET or POST on /sim/settings");
        }
      }
      case "/sim/stats" -> {
        if (req.method() == HttpMethod.GET) {
          json(req, 200, statsJson());
        } else {
          controlError(req, 405, "Use GET on /sim/stats");
        }
      }
      case "/sim/stats/reset" -> {
        if (req.method() == HttpMethod.POST) {
          engine.resetStats();
          json(req, 200, engine.snapshot().toJson());
        } else {
          controlError(req, 405, "Use POST on /sim/stats/reset");
        }
      }
      default -> controlError(req, 404, "Unknown simulator control path " + path);
    }
  }

  /** {@code /sim/stats}: the counters, plus each faithful engine's state under {@code engines}. */
  private JsonObject statsJson() {
    JsonObject json = engine.snapshot().toJson();
    if (!batchEngines.isEmpty()) {
      JsonObject engines = new JsonObject();
      batchEngines.forEach((model, e) -> {
        BatchEngine.Snapshot b = e.snapshot();
        Engine.ModelCounters c = engine.model(model);
        engines.put(model, new JsonObject()
            .put("running", b.running())
            .put("waiting", b.waiting())
            .put("kvCacheUsage", b.kvUsage())
            .put("heldBlocks", b.heldBlocks())
            .put("freeBlocks", b.freeBlocks())
            .put("capacityBlocks", b.capacityBlocks())
            .put("steps", b.steps())
            .put("busySeconds", b.busySeconds())
            .put("prefixCacheQueries", b.prefixQueries())
            .put("prefixCacheHits", b.prefixHits())
            .put("preemptions", b.preemptions())
            .put("timeToFirstTokenCount", c.ttft.count())
            .put("timeToFirstTokenSecondsSum", c.ttft.sum()));
      });
      json.put("engines", engines);
    }
    return json;
  }

  private void patchSettings(HttpServerRequest req, Buffer body) {
    JsonObject patch;
    try {
      patch = body.length() == 0 ? new JsonObject() : new JsonObject(body);
    } catch (DecodeException | ClassCastException e) {
      controlError(req, 400, "The settings patch must be a JSON object");
      return;
    }
    try {
      updateSettings(prepared.settings.merge(patch));
    } catch (IllegalArgumentException e) {
      controlError(req, 400, e.getMessage());
      return;
    }
    json(req, 200, prepared.settings.toJson());
  }

  private static void json(HttpServerRequest req, int status, JsonObject body) {
    req.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, Exchange.JSON).end(body.toBuffer());
  }

  private static void controlError(HttpServerRequest req, int status, String message) {
    String type = status == 404 ? "NotFoundError" : status == 405 ? "MethodNotAllowed" : "BadRequestError";
    req.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, Exchange.JSON)
        .end(JsonText.error(status, type, message, null));
  }
}
