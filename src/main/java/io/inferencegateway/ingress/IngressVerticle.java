package io.inferencegateway.ingress;

import io.inferencegateway.GatewayServices;
import io.inferencegateway.auth.ApiKeys;
import io.inferencegateway.auth.KeyCheck;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.config.GatewayState;
import io.inferencegateway.limits.RateLimiter;
import io.inferencegateway.metrics.MetricsAccess;
import io.inferencegateway.metrics.UsageBatcher;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * The gateway's HTTP server: the OpenAI-compatible API (also under {@code /api/v1} for the toolkit's clients),
 * {@code /health}, {@code /health/live}, {@code /health/ready}, {@code /metrics}, and whatever the control plane
 * mounts (admin API, console). Deployed once per event loop; every instance has its own upstream HTTP client and rate
 * limiter.
 *
 * <p>Stopping drains: new requests (also on open connections) get 503 {@code shutting_down}, requests in flight may
 * finish within {@code shutdown.drainSeconds}; streams still running then end with an error event. Only then are the
 * last usage records handed to the metrics writer.
 */
public final class IngressVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(IngressVerticle.class);

  /** How often requests waiting for a saturated model look again at the replicas' load. */
  static final long DRAIN_INTERVAL_MS = 20;

  private final GatewayServices services;
  private final RouterMount controlPlane;
  private final GatewayState state;
  private HttpServer server;
  private RequestPipeline pipeline;
  private HttpClient client;
  private RateLimiter limiter;
  private long sweeper = -1;
  private long drainer = -1;
  private UsageBatcher usage;
  private final ServerTls tls;
  private HttpServer redirect;
  private java.util.function.Consumer<io.vertx.core.net.ServerSSLOptions> tlsListener;

  /**
   * @param controlPlane mounts the admin API and console on the router (after the OpenAI routes)
   */
  public IngressVerticle(GatewayServices services, RouterMount controlPlane) {
    this(services, controlPlane, null);
  }

  /** @param tls the certificate to serve (null: plain HTTP) */
  public IngressVerticle(GatewayServices services, RouterMount controlPlane, ServerTls tls) {
    this(services, controlPlane, tls, new GatewayState());
  }

  /**
   * @param tls the certificate to serve (null: plain HTTP)
   * @param state shared with the metrics writer and the shutdown: readiness and draining
   */
  public IngressVerticle(GatewayServices services, RouterMount controlPlane, ServerTls tls, GatewayState state) {
    this.services = services;
    this.controlPlane = controlPlane;
    this.tls = tls;
    this.state = state;
  }

  @Override
  public Future<?> start() {
    var up = services.config().upstream();
    client = vertx.createHttpClient(io.inferencegateway.routing.UpstreamTls.trusting(new HttpClientOptions()
            .setProtocolVersion(HttpVersion.HTTP_1_1)
            .setKeepAlive(true)
            .setKeepAliveTimeout(60)
            .setTcpNoDelay(true)
            .setConnectTimeout((int) up.connectTimeoutMs())
            .setDecompressionSupported(false)
            .setMaxInitialLineLength(16 * 1024), up.caFile()),
        new PoolOptions().setHttp1MaxSize(up.maxConnectionsPerReplica()).setMaxWaitQueueSize(-1));
    limiter = services.rateLimiters().apply(vertx);
    // a fraction of the journal's group commit: a record reaches the journal soon after its request ends
    usage = new UsageBatcher(vertx, Math.max(1, Math.min(10, services.config().usage().journal().groupCommitMs() / 5)),
        512);
    GatewayConfig.Clients clients = services.config().http().clients();
    ClientLimits limits = services.clientLimits();
    IntakeGuard guard = new IntakeGuard(clients.requestDeadlineMs(), clients.idleTimeoutMs(), System::nanoTime);
    RequestPipeline pipeline = new RequestPipeline(vertx, services, client, limiter, usage, limits, guard);
    this.pipeline = pipeline;
    sweeper = vertx.setPeriodic(1000, id -> {
      pipeline.sweepTimeouts();
      guard.sweep();
    });
    if (services.admission().settings().enabled()) {
      // waiters also get in when the replicas' scraped load drops, not only when a request of this gateway ends
      drainer = vertx.setPeriodic(DRAIN_INTERVAL_MS, id -> services.admission().drainAll());
    }

    Router router = Router.router(vertx);
    for (String prefix : new String[] {"/v1", "/api/v1"}) {
      for (Operation op : Operation.values()) {
        router.post(prefix + op.path()).handler(ctx -> pipeline.handle(ctx.request(), op));
        // another method on an OpenAI path: OpenAI's error shape, on /api/v1 too
        router.route(prefix + op.path()).handler(IngressVerticle::methodNotAllowed);
      }
    }
    router.get("/v1/models").handler(ctx -> listModels(ctx, false));
    // a user key gets OpenAI's list here too (the toolkit's clients); the admin key or a session: the admin API's list
    router.get("/api/v1/models").handler(ctx -> listModels(ctx, true));
    router.get("/health").handler(this::health);
    router.get("/health/live").handler(ctx -> ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .end(new JsonObject().put("status", "live").toBuffer()));
    router.get("/health/ready").handler(this::ready);
    var metrics = MetricsAccess.onMainPort(services.config().security(), services.adminAuth(), services.prometheus());
    if (metrics != null) {
      router.get("/metrics").handler(metrics);
    }
    controlPlane.mount(vertx, router, services);
    router.route("/v1/*").handler(ctx -> OpenAiErrors.send(ctx.response(), IngressFailure.notFound(ctx.request().path())));
    router.errorHandler(405, IngressVerticle::methodNotAllowed);
    router.errorHandler(500, ctx -> {
      log.error("Unhandled failure on {} {}", ctx.request().method(), ctx.request().path(), ctx.failure());
      OpenAiErrors.send(ctx.response(), new IngressFailure(500, "server_error", "internal_error", null,
          "The gateway failed to handle the request.", 0, false));
    });

    server = vertx.createHttpServer(serverOptions(services.config().http(), tls));
    if (tls != null) {
      io.vertx.core.Context context = vertx.getOrCreateContext();
      tlsListener = options -> context.runOnContext(v -> server.updateSSLOptions(options, true)
          .onFailure(e -> log.warn("TLS: the new certificate was not taken: {}", e.toString(), e)));
      tls.onChange(tlsListener);
    }
    String hsts = tls == null || services.config().http().tls().hstsMaxAgeSeconds() <= 0 ? null
        : "max-age=" + services.config().http().tls().hstsMaxAgeSeconds();
    server.connectionHandler(conn -> {
      String address = conn.remoteAddress() == null ? "" : conn.remoteAddress().hostAddress();
      if (!limits.opened(address)) {
        conn.close();
        return;
      }
      guard.connected(conn);
      conn.closeHandler(v -> {
        limits.closed(address);
        guard.disconnected(conn);
      });
    });
    // the OpenAI POST routes skip the router: matching them is a string switch, and they need no routing context
    Future<?> redirecting = Future.succeededFuture();
    int redirectPort = services.config().http().tls().redirectPort();
    if (tls != null && redirectPort > 0) {
      int httpsPort = services.config().http().port();
      redirect = vertx.createHttpServer(new HttpServerOptions().setHost(services.config().http().host())
          .setPort(redirectPort).setHttp2ClearTextEnabled(false).setIdleTimeout(10));
      redirecting = redirect.requestHandler(req -> redirect(req, httpsPort)).listen();
    }
    return redirecting.compose(v -> server.requestHandler(req -> {
      if (state.draining() && !req.path().startsWith("/health")) {
        // a new request on a connection that was open when the drain began
        req.response().putHeader(HttpHeaders.CONNECTION, "close");
        OpenAiErrors.send(req.response(), IngressFailure.shuttingDown());
        return;
      }
      if (hsts != null) {
        req.response().putHeader(STRICT_TRANSPORT_SECURITY, hsts);
      }
      long deadline = guard.arrived(req);
      Operation op = req.method() == io.vertx.core.http.HttpMethod.POST ? hotRoute(req.path()) : null;
      if (op != null) {
        pipeline.handle(req, op, deadline);
      } else {
        if (!req.isEnded()) {
          guard.watch(deadline, new RouterBody(req));
        }
        router.handle(req);
      }
    }).listen());
  }

  private static final CharSequence STRICT_TRANSPORT_SECURITY =
      HttpHeaders.createOptimized("strict-transport-security");

  /** The plain-HTTP port when TLS is on: 308 to the same path over https (the method and body are kept). */
  static void redirect(io.vertx.core.http.HttpServerRequest req, int httpsPort) {
    String host = req.authority() == null ? "localhost" : req.authority().host();
    if (host.indexOf(':') >= 0 && !host.startsWith("[")) {
      host = "[" + host + "]"; // an IPv6 literal
    }
    String location = "https://" + host + (httpsPort == 443 ? "" : ":" + httpsPort) + req.uri();
    req.response().setStatusCode(308).putHeader(HttpHeaders.LOCATION, location)
        .putHeader(HttpHeaders.CONNECTION, "close").end();
  }

  /**
   * The client side of the server: h2c only when enabled. Idle connections are closed by the {@link IntakeGuard}
   * (Vert.x's idle timeout would also cut a request whose answer takes long to start).
   */
  static HttpServerOptions serverOptions(GatewayConfig.Http http, ServerTls tls) {
    GatewayConfig.Clients clients = http.clients();
    HttpServerOptions options = new HttpServerOptions();
    if (tls != null) {
      // HTTP/2 through ALPN, HTTP/1.1 for the rest
      options.setSsl(true).setUseAlpn(true).setKeyCertOptions(tls.sslOptions().getKeyCertOptions());
    }
    return options
        .setHost(http.host())
        .setPort(http.port())
        .setTcpNoDelay(true)
        .setCompressionSupported(false)
        .setHttp2ClearTextEnabled(clients.h2c())
        .setIdleTimeout(0);
  }

  /**
   * The body of a request the router handles (admin API, console, unknown paths), watched for the request deadline:
   * past it, 408 (unless an answer started) and the connection closed.
   */
  private final class RouterBody implements IntakeGuard.Waiting {
    private final io.vertx.core.http.HttpServerRequest req;

    RouterBody(io.vertx.core.http.HttpServerRequest req) {
      this.req = req;
    }

    @Override
    public boolean done() {
      return req.isEnded();
    }

    @Override
    public void expire() {
      if (req.response().headWritten() || req.response().ended()) {
        if (req.version() == HttpVersion.HTTP_2) {
          req.response().reset();
        } else {
          req.connection().close();
        }
        return;
      }
      PendingBody.beforeAnswer(req);
      Future<Void> sent = OpenAiErrors.sent(req.response(),
          IngressFailure.requestTimeout(services.config().http().clients().requestDeadlineMs()));
      if (req.version() == HttpVersion.HTTP_2) {
        if (sent == null) {
          req.response().reset(); // a stream of a shared connection: end this one only
        }
        return;
      }
      PendingBody.closeAfter(req, sent, (delayMs, action) -> vertx.setTimer(delayMs, id -> action.run()));
    }
  }

  /** The operation of an OpenAI POST path (also registered on the router, which documents and tests them). */
  static Operation hotRoute(String path) {
    return switch (path) {
      case "/v1/chat/completions", "/api/v1/chat/completions" -> Operation.CHAT;
      case "/v1/completions", "/api/v1/completions" -> Operation.COMPLETIONS;
      case "/v1/embeddings", "/api/v1/embeddings" -> Operation.EMBEDDINGS;
      default -> null;
    };
  }

  /** The port actually bound (useful when configured as 0). */
  public int actualPort() {
    return server.actualPort();
  }

  /**
   * {@code GET /v1/models}: the models this key may use, in OpenAI's list shape ({@code ?active=1} on
   * {@code /api/v1/models}: only those with a routable replica). On {@code /api/v1/models} a token that is no user key
   * goes on to the admin API's list.
   */
  private void listModels(RoutingContext ctx, boolean orAdmin) {
    String token = ApiKeys.bearerToken(ctx.request().getHeader(HttpHeaders.AUTHORIZATION));
    if (orAdmin && (token == null || services.adminAuth().isAdminKey(token))) {
      ctx.next();
      return;
    }
    Boolean activeOnly = orAdmin ? activeParam(ctx.request().getParam("active")) : Boolean.FALSE;
    if (activeOnly == null) {
      OpenAiErrors.send(ctx.response(), IngressFailure.invalid("active", "`active` must be a boolean (1 or 0)."));
      return;
    }
    services.keyCache().check(token).onSuccess(check -> {
      if (orAdmin && check.outcome() == KeyCheck.Outcome.UNKNOWN) {
        ctx.next(); // a console session token, or nothing the admin API knows either: it answers
        return;
      }
      if (!check.valid()) {
        OpenAiErrors.send(ctx.response(), Authenticate.refused(check));
        return;
      }
      ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
          .end(ModelList.openAi(services.registry(), check.key(), activeOnly).toBuffer());
    }).onFailure(ctx::fail);
  }

  /** The {@code active} query parameter in the spellings the admin API accepts; null if it is none of them. */
  static Boolean activeParam(String raw) {
    if (raw == null || raw.isEmpty()) {
      return false;
    }
    return switch (raw.trim().toLowerCase(java.util.Locale.ROOT)) {
      case "true", "t", "yes", "y", "on", "1" -> true;
      case "false", "f", "no", "n", "off", "0" -> false;
      default -> null;
    };
  }

  private static void methodNotAllowed(RoutingContext ctx) {
    OpenAiErrors.send(ctx.response(),
        IngressFailure.methodNotAllowed(ctx.request().method().name(), ctx.request().path()));
  }

  private void health(RoutingContext ctx) {
    int models = services.registry().models().size();
    long up = services.registry().replicas().stream().filter(r -> r.routable()).count();
    ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(new JsonObject()
        .put("status", "ok").put("models", models).put("replicas_up", up)
        .put("replicas", services.registry().replicas().size()).toBuffer());
  }

  /**
   * {@code GET /health/ready}: 200 when the gateway takes traffic (not draining; usage records can be journaled or
   * stored), else 503; with what it knows about replicas.
   */
  private void ready(RoutingContext ctx) {
    long up = services.registry().replicas().stream().filter(r -> r.routable()).count();
    boolean ready = state.ready();
    ctx.response().setStatusCode(ready ? 200 : 503).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .end(new JsonObject()
            .put("status", state.draining() ? "draining" : ready ? "ready" : "not_ready")
            .put("journal_writable", state.journalWritable())
            .put("database_reachable", state.databaseReachable())
            .put("models", services.registry().models().size())
            .put("replicas_up", up)
            .put("replicas", services.registry().replicas().size()).toBuffer());
  }

  /** After the drain time, streams still running get this long to end (with their error event) before the close. */
  static final long ABORT_GRACE_MS = 2000;

  @Override
  public Future<?> stop() {
    state.startDraining();
    if (tlsListener != null) {
      tls.removeOnChange(tlsListener);
    }
    if (redirect != null) {
      redirect.close();
    }
    long drainMs = services.config().http().drainSeconds() * 1000L;
    long abort = vertx.setTimer(Math.max(1, drainMs), id -> {
      int n = pipeline == null ? 0 : pipeline.abortAll();
      if (n > 0) {
        log.info("Drain time over: ended {} request(s) still running with 503 shutting_down", n);
      }
    });
    Future<Void> drained = server == null ? Future.succeededFuture()
        : server.shutdown(drainMs + ABORT_GRACE_MS, TimeUnit.MILLISECONDS);
    return drained.eventually(() -> {
      vertx.cancelTimer(abort);
      vertx.cancelTimer(sweeper);
      vertx.cancelTimer(drainer);
      if (usage != null) {
        usage.close(); // after the drain: the records of the requests that were in flight go too
      }
      return Future.join(client == null ? Future.succeededFuture() : client.close(),
          limiter == null ? Future.succeededFuture() : limiter.close());
    });
  }
}
