package io.inferencegateway.console;

import io.inferencegateway.support.Http;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The console's static serving: index at /, security and cache headers, API routes untouched, bundled in the jar. */
class ConsoleRoutesTest {

  static Vertx vertx;
  static HttpServer server;
  static Http http;
  static String base;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    Router router = Router.router(vertx);
    router.get("/api/v1/thing").handler(ctx -> ctx.json(new JsonObject().put("api", true)));
    ConsoleRoutes.mount(router);
    // what the ingress adds after the control plane: its own 404 for unknown OpenAI paths
    router.route("/v1/*").handler(ctx -> ctx.response().setStatusCode(404).end("{\"error\":{}}"));
    server = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1").await();
    base = "http://127.0.0.1:" + server.actualPort();
    http = new Http(vertx);
  }

  @AfterAll
  static void stop() {
    http.close();
    vertx.close().await();
  }

  @Test
  void indexIsServedAtTheRootWithSecurityHeadersAndNoCache() {
    Http.Response r = http.get(base + "/", null);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("Content-Type")).startsWith("text/html");
    assertThat(r.body().toString()).contains("<script type=\"module\" src=\"js/app.js\"></script>");
    assertThat(r.header("Content-Security-Policy")).contains("default-src 'self'").contains("frame-ancestors 'none'")
        .doesNotContain("unsafe-inline");
    assertThat(r.header("X-Content-Type-Options")).isEqualTo("nosniff");
    assertThat(r.header("Cache-Control")).isEqualTo("no-cache");
  }

  @Test
  void appModulesAreRevalidatedAndVendorFilesCachedLong() {
    Http.Response app = http.get(base + "/js/api.js", null);
    assertThat(app.status()).isEqualTo(200);
    assertThat(app.header("Content-Type")).contains("javascript");
    assertThat(app.header("Cache-Control")).isEqualTo("no-cache");
    Http.Response vendor = http.get(base + "/vendor/chart.umd.min.js?v=4.6.1", null);
    assertThat(vendor.status()).isEqualTo(200);
    assertThat(vendor.header("Cache-Control")).contains("max-age=" + ConsoleRoutes.VENDOR_MAX_AGE_SECONDS);
  }

  @Test
  void apiRoutesAndUnknownApiPathsAreLeftAlone() {
    assertThat(http.get(base + "/api/v1/thing", null).json().getBoolean("api")).isTrue();
    Http.Response unknown = http.get(base + "/v1/nothing-here", null);
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.body().toString()).startsWith("{\"error\"");
    assertThat(http.send(HttpMethod.POST, base + "/index.html", null, null, null).status()).isEqualTo(404);
  }

  @Test
  void noDirectoryListingOrHiddenFiles() {
    assertThat(http.get(base + "/vendor/", null).status()).isEqualTo(404);
    assertThat(http.get(base + "/vendor/licenses/", null).status()).isEqualTo(404);
  }

  @Test
  void theConsoleIsOnTheClasspathForJavaMinusJar() {
    assertThat(ConsoleRoutes.class.getClassLoader().getResource(ConsoleRoutes.WEB_ROOT + "/index.html")).isNotNull();
    assertThat(ConsoleRoutes.class.getClassLoader().getResource(ConsoleRoutes.WEB_ROOT + "/vendor/manifest.json")).isNotNull();
  }
}
