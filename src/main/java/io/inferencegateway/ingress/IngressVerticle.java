package io.inferencegateway.ingress;

import io.inferencegateway.GatewayServices;
import io.inferencegateway.auth.ApiKeys;
import io.inferencegateway.auth.KeyCheck;
import io.inferencegateway.limits.RateLimiter;
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
import io.vertx.micrometer.PrometheusScrapingHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;


/**
 * The gateway's HTTP server: the OpenAI-compatible API (also under {@code /api/v1} for the toolkit's clients),
 * {@code /health}, {@code /metrics}, and whatever the control plane mounts (admin API, console).
 * Deployed once per event loop; every instance has its own upstream HTTP client and rate limiter.
 */
public final class IngressVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(IngressVerticle.class);

  private final GatewayServices services;
  private final RouterMount controlPlane;
  private HttpServer server;
  private HttpClient client;
  private RateLimiter limiter;
  private long sweeper = -1;
  private UsageBatcher usage;

  /**
   * @param controlPlane mounts the admin API and console on the router (after the OpenAI routes)
   */
  public IngressVerticle(GatewayServices services, RouterMount controlPlane) {
    this.services = services;
    this.controlPlane = controlPlane;
  }

  @Override
  public Future<?> start() {
    var up = services.config().upstream();
    client = vertx.createHttpClient(new HttpClientOptions()
            .setProtocolVersion(HttpVersion.HTTP_1_1)
            .setKeepAlive(true)
            .setKeepAliveTimeout(60)
            .setTcpNoDelay(true)
            .setConnectTimeout((int) up.connectTimeoutMs())
            .setDecompressionSupported(false)
            .setMaxInitialLineLength(16 * 1024),
        new PoolOptions().setHttp1MaxSize(up.maxConnectionsPerReplica()).setMaxWaitQueueSize(-1));
    limiter = services.rateLimiters().apply(vertx);
    usage = new UsageBatcher(vertx, 50, 512);
    RequestPipeline pipeline = new RequestPipeline(vertx, services, client, limiter, usage);
    sweeper = vertx.setPeriodic(1000, id -> pipeline.sweepTimeouts());

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
    router.get("/metrics").handler(PrometheusScrapingHandler.create(services.prometheus()));
    controlPlane.mount(vertx, router, services);
    router.route("/v1/*").handler(ctx -> OpenAiErrors.send(ctx.response(), IngressFailure.notFound(ctx.request().path())));
    router.errorHandler(405, IngressVerticle::methodNotAllowed);
    router.errorHandler(500, ctx -> {
      log.error("Unhandled failure on {} {}", ctx.request().method(), ctx.request().path(), ctx.failure());
      OpenAiErrors.send(ctx.response(), new IngressFailure(500, "server_error", "internal_error", null,
          "The gateway failed to handle the request.", 0, false));
    });

    server = vertx.createHttpServer(new HttpServerOptions()
        .setHost(services.config().http().host())
        .setPort(services.config().http().port())
        .setTcpNoDelay(true)
        .setCompressionSupported(false)
        .setIdleTimeout(0));
    // the OpenAI POST routes skip the router: matching them is a string switch, and they need no routing context
    return server.requestHandler(req -> {
      Operation op = req.method() == io.vertx.core.http.HttpMethod.POST ? hotRoute(req.path()) : null;
      if (op != null) {
        pipeline.handle(req, op);
      } else {
        router.handle(req);
      }
    }).listen();
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

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(sweeper);
    if (usage != null) {
      usage.close();
    }
    return Future.join(server == null ? Future.succeededFuture() : server.close(),
        client == null ? Future.succeededFuture() : client.close(),
        limiter == null ? Future.succeededFuture() : limiter.close());
  }
}
