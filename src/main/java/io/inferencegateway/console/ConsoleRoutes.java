package io.inferencegateway.console;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;

/**
 * Serves the console, a static single-page app, from {@code webroot/} at {@code /}: the directory beside the working
 * directory when there is one, else the copy bundled in the jar (Vert.x resolves relative files on the classpath too),
 * so {@code java -jar} works from anywhere and needs no network. Mounted after every API route, for GET and HEAD only.
 *
 * <p>Every console response carries a Content-Security-Policy that allows only this origin (no inline script or
 * style, no framing). The app's own files are revalidated on each load ({@code no-cache}); the third-party files under
 * {@code vendor/} are referenced with their version in the URL, so they may be cached for a long time.
 */
public final class ConsoleRoutes {

  public static final String WEB_ROOT = "webroot";
  static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
      + "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
      + "frame-ancestors 'none'";
  static final long VENDOR_MAX_AGE_SECONDS = 365L * 24 * 3600;

  private ConsoleRoutes() {}

  /** Adds the console's routes to a router (once per ingress router). */
  public static void mount(Router router) {
    StaticHandler files = StaticHandler.create(WEB_ROOT)
        .setIndexPage("index.html")
        .setCachingEnabled(true)
        .setMaxAgeSeconds(VENDOR_MAX_AGE_SECONDS)
        .setDirectoryListing(false)
        .setIncludeHidden(false);
    // any method, so other methods still get the router's 404 rather than a 405; only GET and HEAD are served
    router.route().handler(ConsoleRoutes::headers).handler(files);
  }

  /** Security and cache headers; StaticHandler keeps a Cache-Control already set, and adds its own for vendor files. */
  private static void headers(RoutingContext ctx) {
    HttpMethod method = ctx.request().method();
    if (method != HttpMethod.GET && method != HttpMethod.HEAD) {
      ctx.next(); // StaticHandler passes these on too
      return;
    }
    var h = ctx.response().headers();
    h.set("Content-Security-Policy", CSP);
    h.set("X-Content-Type-Options", "nosniff");
    h.set("X-Frame-Options", "DENY");
    h.set("Referrer-Policy", "no-referrer");
    if (!ctx.normalizedPath().startsWith("/vendor/")) {
      h.set(HttpHeaders.CACHE_CONTROL, "no-cache");
    }
    ctx.next();
  }
}
