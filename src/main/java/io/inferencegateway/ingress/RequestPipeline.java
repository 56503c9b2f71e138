package io.inferencegateway.ingress;

import io.inferencegateway.GatewayServices;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.limits.RateLimiter;
import io.inferencegateway.metrics.UsageBatcher;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpServerRequest;

import java.util.function.LongSupplier;

/**
 * The request path of the OpenAI routes, top to bottom. Each stage is a small class with one job; a stage that
 * refuses the request fails the chain with an {@link IngressFailure}, and {@link Finish} ends every request, however
 * it went. One pipeline per ingress event loop; nothing here blocks or queries the database (the key cache and the
 * model registry are in memory).
 *
 * <ol>
 *   <li>{@link Authenticate}: the API key, with the body still unread;</li>
 *   <li>{@link ReadBody}: a JSON body within the size limit;</li>
 *   <li>{@link ParseRequest}: the toolkit's rules, a model the key may use, what goes upstream;</li>
 *   <li>{@link Admit}: the key's per-minute limits, then fair admission (a wait while the model is saturated);</li>
 *   <li>{@link RouteAndSend}: a replica leased from the router, the request sent, fail-over to another replica;</li>
 *   <li>{@link RelayAnswer}: the answer to the client, JSON or server-sent events as they arrive, a broken stream
 *   resumed on another replica;</li>
 *   <li>{@link Finish}: timers stopped, lease released, usage recorded.</li>
 * </ol>
 */
final class RequestPipeline {

  private final LongSupplier clockNanos;
  private final Authenticate authenticate;
  private final ReadBody readBody;
  private final ParseRequest parse;
  private final Admit admit;
  private final RouteAndSend routeAndSend;
  private final RelayAnswer relay;
  private final Finish finish;
  private final Watchdog watchdog;
  private final GatewayServices services;

  RequestPipeline(Vertx vertx, GatewayServices services, HttpClient client, RateLimiter limiter,
                  UsageBatcher usage) {
    this(vertx, services, client, limiter, usage, System::nanoTime, System::currentTimeMillis);
  }

  RequestPipeline(Vertx vertx, GatewayServices services, HttpClient client, RateLimiter limiter, UsageBatcher usage,
                  LongSupplier clockNanos, LongSupplier clockMs) {
    this(vertx, services, client, limiter, usage, clockNanos, clockMs, null, null);
  }

  /**
   * @param limits the body budget shared by every event loop (null: none)
   * @param guard this event loop's request deadlines (null: none)
   */
  RequestPipeline(Vertx vertx, GatewayServices services, HttpClient client, RateLimiter limiter, UsageBatcher usage,
                  ClientLimits limits, IntakeGuard guard) {
    this(vertx, services, client, limiter, usage, System::nanoTime, System::currentTimeMillis, limits, guard);
  }

  private RequestPipeline(Vertx vertx, GatewayServices services, HttpClient client, RateLimiter limiter,
                          UsageBatcher usage, LongSupplier clockNanos, LongSupplier clockMs, ClientLimits limits,
                          IntakeGuard guard) {
    GatewayConfig config = services.config();
    this.services = services;
    this.clockNanos = clockNanos;
    GatewayConfig.Upstream upstream = config.upstream();
    this.watchdog = new Watchdog(upstream.totalTimeoutMs(), upstream.firstByteTimeoutMs(), upstream.idleTimeoutMs(),
        upstream.firstBytePerTokenMs(), config.limits().reserveTokens(), clockNanos);
    this.authenticate = new Authenticate(services.keyCache());
    this.readBody = new ReadBody(config.http().maxBodyBytes(), limits, guard);
    this.parse = new ParseRequest(services.registry(), config.router().affinityPrefixChars(),
        config.usage().storeContent(), config.usage().contentMaxChars(), config.router().resume());
    this.admit = new Admit(limiter, services.admission(), config.limits().reserveTokens());
    this.routeAndSend = new RouteAndSend(services.router(), new HttpUpstream(client, upstream, watchdog, clockNanos),
        config.router().maxAttempts(), services.meters(), clockMs, services.registry()::model);
    this.relay = new RelayAnswer(config.usage().storeContent(), config.usage().contentMaxChars(), clockNanos, clockMs,
        routeAndSend, config.router().maxResumes(), services.meters());
    this.finish = new Finish(watchdog, limiter, usage::add, services.meters(), clockNanos,
        (delayMs, action) -> vertx.setTimer(delayMs, id -> action.run())).withLimits(limits);
  }

  void handle(HttpServerRequest req, Operation op) {
    handle(req, op, Long.MAX_VALUE);
  }

  /** @param deadlineNanos when the request's head and body must have arrived (see {@link IntakeGuard}) */
  void handle(HttpServerRequest req, Operation op, long deadlineNanos) {
    ProxyExchange ex = new ProxyExchange(req, op, clockNanos.getAsLong());
    ex.deadlineNanos = deadlineNanos;
    services.meters().inFlight().incrementAndGet();
    req.pause(); // not a byte of the body is read before the key is known
    req.response().closeHandler(v -> ex.markClientGone());
    authenticate.apply(ex)
        .compose(v -> readBody.apply(ex))
        .compose(body -> parse.apply(ex, body))
        .compose(v -> admit.apply(ex))
        .compose(v -> routeAndSend.apply(ex))
        .compose(v -> relay.apply(ex))
        .onComplete(outcome -> finish.apply(ex, outcome));
  }

  /** Ends every request still talking to a replica with 503 shutting_down (the drain time is over). */
  int abortAll() {
    return watchdog.abortAll();
  }

  /** Ends requests past their total time or idle on upstream (called once a second). */
  void sweepTimeouts() {
    watchdog.sweep();
  }
}
