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

import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * A stand-in for vLLM's OpenAI-compatible server: same paths, JSON and SSE framing, with configurable
 * latency, a {@code maxNumSeqs} scheduler and injected faults. Control endpoints live under {@code /sim/}.
 *
 * <p>Routing is a switch on the path rather than a vertx-web Router: the benchmark sends tens of
 * thousands of requests a second through here, and the handful of fixed paths needs no more.
 */
public class SimulatorVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(SimulatorVerticle.class);

  private static final CharSequence PROMETHEUS = HttpHeaders.createOptimized("text/plain; version=0.0.4; charset=utf-8");

  private final int port;
  private final String host;
  private final Engine engine;
  private volatile Prepared prepared;
  private HttpServer server;

  /** Listens on all interfaces, like vLLM's default {@code --host 0.0.0.0}. Port 0 picks a free port. */
  public SimulatorVerticle(int port, SimulatorSettings settings) {
    this(port, settings, "0.0.0.0");
  }

  public SimulatorVerticle(int port, SimulatorSettings settings, String host) {
    this.port = port;
    this.host = Objects.requireNonNull(host, "host");
    this.prepared = new Prepared(Objects.requireNonNull(settings, "settings"));
    this.engine = new Engine(() -> prepared.settings.maxNumSeqs());
  }

  @Override
  public Future<?> start() {
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

  /** Replaces the settings; requests already admitted keep the ones they started with. */
  public void updateSettings(SimulatorSettings settings) {
    prepared = new Prepared(Objects.requireNonNull(settings, "settings"));
    if (context != null) {
      // A larger maxNumSeqs may admit queued requests; the queue belongs to the event loop.
      context.runOnContext(v -> engine.drain());
    }
    LOG.debug("simulator settings now {}", settings);
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
    new Exchange(vertx, engine, p, req, endpoint, fault, drop).begin();
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
    double kv = Math.min(1.0, (double) engine.running() / s.maxNumSeqs());
    StringBuilder sb = new StringBuilder(512 + 600 * s.models().size());
    gauge(sb, s, "vllm:num_requests_running", "Number of requests in model execution batches.",
        m -> engine.model(m).running.get());
    gauge(sb, s, "vllm:num_requests_waiting", "Number of requests waiting to be processed.",
        m -> engine.model(m).waiting.get());
    gauge(sb, s, "vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", m -> kv);
    counter(sb, s, "vllm:prompt_tokens_total", "Number of prefill tokens processed.",
        m -> engine.model(m).promptTokens.get());
    counter(sb, s, "vllm:generation_tokens_total", "Number of generation tokens processed.",
        m -> engine.model(m).generationTokens.get());
    return Buffer.buffer(sb.toString());
  }

  private static void gauge(StringBuilder sb, SimulatorSettings s, String name, String help,
      java.util.function.ToDoubleFunction<String> value) {
    series(sb, s, name, help, "gauge", value);
  }

  private static void counter(StringBuilder sb, SimulatorSettings s, String name, String help,
      java.util.function.ToDoubleFunction<String> value) {
    series(sb, s, name, help, "counter", value);
  }

  private static void series(StringBuilder sb, SimulatorSettings s, String name, String help, String type,
      java.util.function.ToDoubleFunction<String> value) {
    sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
    sb.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    for (String m : s.models()) {
      sb.append(name).append("{model_name=\"");
      for (int i = 0; i < m.length(); i++) {
        char c = m.charAt(i);
        switch (c) {
          case '\\' -> sb.append("\\\\");
          case '"' -> sb.append("\\\"");
          case '\n' -> sb.append("\\n");
          default -> sb.append(c);
        }
      }
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
          json(req, 200, engine.snapshot().toJson());
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
