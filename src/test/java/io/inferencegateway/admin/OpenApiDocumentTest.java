package io.inferencegateway.admin;

import io.inferencegateway.ControlPlane;
import io.inferencegateway.GatewayApp;
import io.inferencegateway.ingress.RouterMount;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.support.GatewayHarness;
import io.inferencegateway.support.Http;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Keeps {@code openapi.json} true: the router of a real gateway (ingress and admin routes, as deployed) and the
 * document must name the same operations, method by method. Routes without a method (catch-alls, failure handlers)
 * are not operations. Path parameters are compared by position only ({@code :id}, {@code {id}}, {@code {model}}).
 */
class OpenApiDocumentTest {

  private static final List<String> METHODS = List.of("get", "put", "post", "delete", "options", "head", "patch", "trace");

  static GatewayApp app;
  static Router router;
  static JsonObject document;

  @BeforeAll
  static void start() throws IOException {
    GatewayConfig config = GatewayHarness.baseConfig(null, null);
    RouterMount controlPlane = ControlPlane.mounter(config);
    AtomicReference<Router> captured = new AtomicReference<>();
    app = GatewayApp.start(config, GatewayApp.AdminKeyPolicy.GENERATE_ONCE, (vertx, r, services) -> {
      captured.compareAndSet(null, r);
      controlPlane.mount(vertx, r, services);
    }).await();
    router = captured.get();
    try (InputStream in = OpenApiDocumentTest.class.getResourceAsStream("/openapi.json")) {
      document = new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  @AfterAll
  static void stop() {
    app.close().await();
  }

  static String normalise(String path) {
    return path.replaceAll("\\{[^}/]+}", "{}").replaceAll(":[A-Za-z0-9_]+", "{}");
  }

  static Set<String> routed() {
    Set<String> out = new TreeSet<>();
    for (Route route : router.getRoutes()) {
      Set<HttpMethod> methods = route.methods();
      if (methods == null || methods.isEmpty()) {
        continue;
      }
      Object documented = route.getMetadata(AdminApi.OPENAPI_PATH);
      String path = documented != null ? documented.toString() : route.getPath();
      assertThat(path).as("a route without a plain path must name its OpenAPI path in metadata: " + route).isNotNull();
      for (HttpMethod m : methods) {
        out.add(m.name() + " " + normalise(path));
      }
    }
    return out;
  }

  static Set<String> documented() {
    Set<String> out = new TreeSet<>();
    JsonObject paths = document.getJsonObject("paths");
    for (String path : paths.fieldNames()) {
      for (String method : paths.getJsonObject(path).fieldNames()) {
        if (METHODS.contains(method)) {
          out.add(method.toUpperCase() + " " + normalise(path));
        }
      }
    }
    return out;
  }

  @Test
  void everyRouteOfTheRouterIsDocumentedAndEveryDocumentedOperationExists() {
    Set<String> routed = routed();
    Set<String> documented = documented();
    assertThat(routed).as("sanity: the router was captured with both planes")
        .contains("POST /v1/chat/completions", "POST /api/v1/chat/completions", "GET /health", "GET /metrics",
            "GET /v1/models", "POST /api/v1/generate_api_key", "GET /api/v1/models/{}", "DELETE /api/v1/models/{}");
    Set<String> undocumented = new TreeSet<>(routed);
    undocumented.removeAll(documented);
    Set<String> unrouted = new TreeSet<>(documented);
    unrouted.removeAll(routed);
    assertThat(undocumented).as("routes missing from openapi.json").isEmpty();
    assertThat(unrouted).as("documented operations the router does not have").isEmpty();
  }

  @Test
  void theDocumentIsOpenApi3WithResolvableReferencesAndSecuredAdminOperations() {
    assertThat(document.getString("openapi")).startsWith("3.");
    List<String> refs = new ArrayList<>();
    collectRefs(document, refs);
    assertThat(refs).isNotEmpty();
    for (String ref : refs) {
      assertThat(ref).startsWith("#/");
      Object target = document;
      for (String part : ref.substring(2).split("/")) {
        target = ((JsonObject) target).getValue(part);
        assertThat(target).as("unresolved " + ref).isNotNull();
      }
    }
    Set<String> open = Set.of("POST /api/v1/auth/login", "GET /api/v1/openapi.json");
    JsonObject paths = document.getJsonObject("paths");
    for (String path : paths.fieldNames()) {
      for (Map.Entry<String, Object> op : paths.getJsonObject(path)) {
        if (!METHODS.contains(op.getKey())) {
          continue;
        }
        JsonObject operation = (JsonObject) op.getValue();
        String name = op.getKey().toUpperCase() + " " + path;
        assertThat(operation.getJsonObject("responses")).as(name).isNotEmpty();
        assertThat(operation.getString("operationId")).as(name).isNotBlank();
        JsonArray security = operation.getJsonArray("security");
        if (path.startsWith("/api/v1/") && !open.contains(name) && !path.matches("/api/v1/(chat/completions|completions|embeddings)")) {
          assertThat(security.stream().map(s -> ((JsonObject) s).fieldNames().iterator().next()))
              .as(name + " takes the admin key and sessions").contains("adminKey", "session");
          assertThat(operation.getJsonObject("responses").fieldNames()).as(name).contains("401");
        }
      }
    }
  }

  private static void collectRefs(Object node, List<String> out) {
    if (node instanceof JsonObject o) {
      for (Map.Entry<String, Object> e : o) {
        if (e.getKey().equals("$ref")) {
          out.add((String) e.getValue());
        } else {
          collectRefs(e.getValue(), out);
        }
      }
    } else if (node instanceof JsonArray a) {
      a.forEach(v -> collectRefs(v, out));
    }
  }

  @Test
  void theGatewayServesTheDocumentWithoutCredentials() {
    Vertx vertx = Vertx.vertx();
    Http http = new Http(vertx);
    try {
      Http.Response r = http.get("http://127.0.0.1:" + app.port() + "/api/v1/openapi.json", null);
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.json()).isEqualTo(document);
    } finally {
      http.close();
      vertx.close().await();
    }
  }
}
