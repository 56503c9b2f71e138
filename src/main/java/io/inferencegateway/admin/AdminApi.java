package io.inferencegateway.admin;

import io.inferencegateway.GatewayServices;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.store.SessionStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.Promise;
import io.inferencegateway.ingress.ClientLimits;
import io.inferencegateway.ingress.IngressFailure;
import io.inferencegateway.ingress.ReadBody;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The admin API under {@code /api/v1}, compatible with the Hyperstack LLM Inference Toolkit's: API keys, models,
 * replicas, raw tables, plus console login, usage series, backups, the cluster's members and the OpenAPI description. Mounted on every ingress
 * router (after the OpenAI routes, which keep their own handling; no BodyHandler ever runs on those).
 *
 * <p>Every admin route needs the admin key or a console session token ({@link AdminContext#authenticate}), checked
 * with the request paused, before a byte of its body is read; bodies (at most {@value #BODY_LIMIT} bytes, a login's
 * {@value #LOGIN_BODY_LIMIT}) are then read into buffers that grow as data arrives, out of the gateway's request body
 * budget ({@code http.bodyBudgetBytes}, shared with the OpenAI routes). A refused request whose body is still coming
 * gets its answer at once and its connection closed. Failures of any
 * admin route reach one failure handler ({@link AdminErrors}). Unknown paths under {@code /api/v1} answer 404 and
 * known paths with another method 405, both in the toolkit's {@code {"error": ...}} shape.
 */
public final class AdminApi {

  public static final String PREFIX = "/api/v1";
  public static final long BODY_LIMIT = 1024 * 1024;
  /** A login body holds a password: read before any credential is known, so kept small. */
  public static final long LOGIN_BODY_LIMIT = 16 * 1024;
  /** Where a route's body is kept in its routing context (see {@link AdminContext#body}). */
  static final String BODY = "admin.body";
  /** Route metadata naming the OpenAPI path an admin route implements (regex routes have no plain path). */
  public static final String OPENAPI_PATH = "openapi.path";
  static final String OPENAPI_RESOURCE = "/openapi.json";

  private final GatewayConfig config;
  private volatile LoginThrottle throttle;
  private final Buffer openApi;
  private volatile Sessions.SharedSecret secret;
  /** Checks tokens for {@link #tokenExpiry} (a benign race may make two; they verify alike). */
  private volatile Sessions tokenSessions;

  private AdminApi(GatewayConfig config) {
    this.config = config;
    this.openApi = readOpenApi();
  }

  /** One admin API per gateway process: mount it on each router; it also checks tokens for other entry points. */
  public static AdminApi create(GatewayConfig config) {
    return new AdminApi(config);
  }

  /**
   * Checks a bearer token as the admin routes do, for entry points outside them (the metrics feed's event-bus
   * bridges): succeeds with when the token stops being valid ({@link Instant#MAX} for the admin key), fails with 401
   * if it is neither the admin key nor a valid console session token.
   */
  public Future<Instant> tokenExpiry(Vertx vertx, GatewayServices services, String token) {
    if (token == null || token.isBlank()) {
      return Future.failedFuture(AdminFailure.unauthorized());
    }
    if (services.adminAuth().isAdminKey(token)) {
      return Future.succeededFuture(Instant.MAX);
    }
    if (!Sessions.looksLikeJwt(token)) {
      return Future.failedFuture(AdminFailure.unauthorized());
    }
    Sessions s = tokenSessions;
    if (s == null) {
      s = sessions(vertx, services);
      tokenSessions = s;
    }
    return s.expiry(token);
  }

  private static Buffer readOpenApi() {
    try (InputStream in = AdminApi.class.getResourceAsStream(OPENAPI_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + OPENAPI_RESOURCE);
      }
      return Buffer.buffer(in.readAllBytes());
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + OPENAPI_RESOURCE, e);
    }
  }

  private Sessions.SharedSecret secret(GatewayServices services) {
    Sessions.SharedSecret s = secret;
    if (s == null) {
      synchronized (this) {
        if (secret == null) {
          secret = new Sessions.SharedSecret(services.settings(), services.models().secrets());
        }
        s = secret;
      }
    }
    return s;
  }

  private Sessions sessions(Vertx vertx, GatewayServices services) {
    return new Sessions(vertx, secret(services), config.console().sessionTtlMinutes(), config::appPassword,
        new SessionStore(services.database()));
  }

  /** The login throttle, one per process (shared by every event loop), on the gateway's clock. */
  private synchronized LoginThrottle throttle(GatewayServices services) {
    if (throttle == null) {
      throttle = LoginThrottle.standard(config.console().loginFreeAttempts(), services.clock()::millis);
    }
    return throttle;
  }

  /** Adds the admin routes to one ingress router (called once per ingress event loop). */
  public void mount(Vertx vertx, Router router, GatewayServices services) {
    AdminContext admin = new AdminContext(vertx, services, config, sessions(vertx, services), throttle(services));
    Routes routes = new Routes(router, admin);

    LoginHandler login = new LoginHandler(admin);
    ApiKeyHandlers keys = new ApiKeyHandlers(admin);
    ModelHandlers models = new ModelHandlers(admin);
    ReplicaHandlers replicas = new ReplicaHandlers(admin);
    TableHandlers tables = new TableHandlers(admin);
    UsageHandlers usage = new UsageHandlers(admin);
    BackupHandlers backups = new BackupHandlers(admin);

    routes.add(HttpMethod.POST, "/auth/login", "/auth/login", Access.PUBLIC, true, login::login);
    routes.add(HttpMethod.POST, "/auth/logout", "/auth/logout", Access.ADMIN, false, login::logout);
    routes.add(HttpMethod.GET, "/openapi.json", "/openapi\\.json", Access.PUBLIC, false, this::openApi);

    routes.add(HttpMethod.POST, "/generate_api_key", "/generate_api_key", Access.ADMIN, true, keys::generate);
    routes.add(HttpMethod.POST, "/delete_api_key", "/delete_api_key", Access.ADMIN, true, keys::delete);
    routes.add(HttpMethod.GET, "/api_keys", "/api_keys", Access.ADMIN, false, keys::list);
    routes.add(HttpMethod.PUT, "/api_keys/{id}", "/api_keys/(?<id>\\d+)", Access.ADMIN, true, keys::updateAdmission);

    // a user key's OpenAI list is answered by the ingress, mounted before this
    routes.add(HttpMethod.GET, "/models", "/models", Access.ADMIN, false, models::list);
    routes.add(HttpMethod.POST, "/models", "/models", Access.ADMIN, true, models::create);
    // numeric ids first; a model name (which may contain slashes) is whatever remains after /models/
    routes.add(HttpMethod.GET, "/models/{id}/replicas", "/models/(?<id>\\d+)/replicas", Access.ADMIN, false,
        replicas::list);
    routes.add(HttpMethod.POST, "/models/{id}/replicas", "/models/(?<id>\\d+)/replicas", Access.ADMIN, true,
        replicas::create);
    routes.add(HttpMethod.PUT, "/models/replicas/{id}", "/models/replicas/(?<id>\\d+)", Access.ADMIN, true,
        replicas::update);
    routes.add(HttpMethod.DELETE, "/models/{model}", "/models/(?<id>\\d+)", Access.ADMIN, false, models::delete);
    routes.add(HttpMethod.GET, "/models/{model}", "/models/(?<model>.+)", Access.ADMIN, false, models::get);
    routes.add(HttpMethod.DELETE, "/replicas/{id}", "/replicas/(?<id>\\d+)", Access.ADMIN, false, replicas::delete);

    routes.add(HttpMethod.GET, "/tables", "/tables", Access.ADMIN, false, tables::list);
    routes.add(HttpMethod.GET, "/tables/{name}", "/tables/(?<name>[^/]+)", Access.ADMIN, false, tables::rows);
    routes.add(HttpMethod.GET, "/usage/series", "/usage/series", Access.ADMIN, false, usage::series);
    routes.add(HttpMethod.GET, "/usage/resumed", "/usage/resumed", Access.ADMIN, false, usage::resumed);
    routes.add(HttpMethod.GET, "/backups", "/backups", Access.ADMIN, false, backups::list);
    routes.add(HttpMethod.GET, "/cluster", "/cluster", Access.ADMIN, false,
        ctx -> services.cluster().describe().compose(json -> AdminContext.json(ctx, 200, json)));

    router.route(PREFIX + "/*").handler(ctx -> routes.unmatched(ctx));
    router.route(PREFIX + "/*").failureHandler(AdminErrors::handle);
  }

  private Future<?> openApi(RoutingContext ctx) {
    return ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(openApi);
  }

  enum Access { PUBLIC, ADMIN }

  /** Registers admin routes and remembers their patterns, to tell 405 from 404 for paths no route took. */
  private static final class Routes {
    private record Known(HttpMethod method, Pattern pattern) {}

    private final Router router;
    private final AdminContext admin;
    private final List<Known> known = new ArrayList<>();

    Routes(Router router, AdminContext admin) {
      this.router = router;
      this.admin = admin;
    }

    /**
     * @param docPath the path as the OpenAPI document spells it, under {@link #PREFIX}
     * @param regex the path pattern under {@link #PREFIX} (named groups become path parameters)
     */
    void add(HttpMethod method, String docPath, String regex, Access access, boolean withBody,
             Function<RoutingContext, Future<?>> action) {
      Pattern pattern = Pattern.compile(Pattern.quote(PREFIX) + regex);
      known.add(new Known(method, pattern));
      Route route = router.routeWithRegex(method, pattern.pattern()).putMetadata(OPENAPI_PATH, PREFIX + docPath);
      // credentials first, with the body unread (paused); a public route with a body (login) reads a small one
      if (access == Access.ADMIN) {
        route.handler(this::authenticate);
      }
      if (withBody) {
        long limit = access == Access.PUBLIC ? LOGIN_BODY_LIMIT : BODY_LIMIT;
        route.handler(ctx -> readBody(ctx, limit, action));
      } else {
        route.handler(ctx -> run(ctx, action));
      }
    }

    /**
     * Reads the body (within {@code limit} and the gateway's body budget), then runs the action, which parses it at
     * once; its bytes go back to the budget when the action returns (or the read fails).
     */
    private void readBody(RoutingContext ctx, long limit, Function<RoutingContext, Future<?>> action) {
      HttpServerRequest req = ctx.request();
      ClientLimits budget = admin.services.clientLimits();
      long[] reserved = {0};
      Runnable release = () -> {
        budget.release(ClientLimits.ADMIN, reserved[0]);
        reserved[0] = 0;
      };
      ctx.addEndHandler(ar -> release.run()); // also when the read never ends (deadline, connection gone)
      ReadBody.read(req, req.isEnded(), req.getHeader(HttpHeaders.CONTENT_LENGTH), limit, bytes -> {
        if (!budget.reserve(ClientLimits.ADMIN, bytes)) {
          return false;
        }
        reserved[0] += bytes;
        return true;
      }, Promise.promise()).onComplete(ar -> {
        if (ar.failed()) {
          release.run();
          ctx.fail(ar.cause() instanceof IngressFailure f ? AdminFailure.from(f) : ar.cause());
          return;
        }
        ctx.put(BODY, ar.result());
        try {
          run(ctx, action);
        } finally {
          ctx.remove(BODY);
          release.run();
        }
      });
    }

    private void authenticate(RoutingContext ctx) {
      ctx.request().pause(); // not a byte of a body is read before the credentials are known
      admin.authenticate(ctx.request().getHeader(HttpHeaders.AUTHORIZATION)).onComplete(ar -> {
        if (ar.succeeded()) {
          ctx.put("admin.principal", ar.result());
          ctx.next();
        } else {
          ctx.fail(ar.cause());
        }
      });
    }

    private static void run(RoutingContext ctx, Function<RoutingContext, Future<?>> action) {
      Future<?> result;
      try {
        result = action.apply(ctx);
      } catch (RuntimeException e) {
        ctx.fail(e);
        return;
      }
      result.onFailure(ctx::fail);
    }

    /** No admin route took the request: 405 if another method would have, else 404. */
    void unmatched(RoutingContext ctx) {
      String path = ctx.normalizedPath();
      Set<String> allowed = new LinkedHashSet<>();
      for (Known k : known) {
        if (k.pattern().matcher(path).matches()) {
          allowed.add(k.method().name());
        }
      }
      if (allowed.isEmpty()) {
        ctx.fail(AdminFailure.notFound("Not found: " + ctx.request().path()));
        return;
      }
      ctx.response().putHeader(HttpHeaders.ALLOW, String.join(", ", allowed));
      ctx.fail(AdminFailure.error(405, "Method " + ctx.request().method().name() + " is not allowed on "
          + ctx.request().path() + "."));
    }
  }
}
