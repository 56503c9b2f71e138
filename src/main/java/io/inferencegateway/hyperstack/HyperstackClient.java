package io.inferencegateway.hyperstack;

import io.inferencegateway.config.GatewayConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The few calls of the Hyperstack (Infrahub) API the gateway makes, on vertx-web-client: create, read, list, delete a
 * VM and add a firewall rule to it. Every request carries the {@code api_key} header; every answer is the API's
 * envelope {@code {"status": true|false, "message": ..., ...}}, and {@code status: false} or an HTTP error becomes a
 * {@link HyperstackException} with the API's message. The key is never logged nor put in an exception.
 */
public final class HyperstackClient {

  private static final Logger log = LoggerFactory.getLogger(HyperstackClient.class);
  static final String API_KEY_HEADER = "api_key";
  private static final int PAGE_SIZE = 100;
  private static final int MAX_PAGES = 50;

  private final WebClient client;
  private final String baseUrl;
  private final String apiKey;
  private final long timeoutMs;

  public HyperstackClient(Vertx vertx, GatewayConfig.Hyperstack config) {
    this.apiKey = Objects.requireNonNull(config.apiKey(), "Hyperstack API key");
    this.baseUrl = config.baseUrl().endsWith("/") ? config.baseUrl().substring(0, config.baseUrl().length() - 1)
        : config.baseUrl();
    this.timeoutMs = config.requestTimeoutMs();
    this.client = WebClient.create(vertx, new WebClientOptions()
        .setUserAgent("inference-gateway")
        .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, timeoutMs))
        .setKeepAlive(true), new PoolOptions().setHttp1MaxSize(4));
  }

  /** {@code POST /core/virtual-machines} with {@code count: 1}: the created VM (usually CREATING, no IP yet). */
  public Future<Vm> createVm(VmSpec spec) {
    return call(HttpMethod.POST, "/core/virtual-machines", spec.toJson()).map(body -> {
      JsonArray instances = body.getJsonArray("instances");
      if (instances == null || instances.isEmpty() || !(instances.getValue(0) instanceof JsonObject vm)) {
        throw new HyperstackException(200, "Hyperstack accepted the VM but returned no instance", null, null);
      }
      return Vm.fromJson(vm);
    });
  }

  /** {@code GET /core/virtual-machines/{id}}. A VM that does not exist fails with {@link HyperstackException#notFound()}. */
  public Future<Vm> getVm(long id) {
    return call(HttpMethod.GET, "/core/virtual-machines/" + id, null).map(body -> {
      JsonObject vm = body.getJsonObject("instance");
      if (vm == null) {
        throw new HyperstackException(200, "Hyperstack returned no instance for VM " + id, null, null);
      }
      return Vm.fromJson(vm);
    });
  }

  /**
   * The VMs named exactly {@code name}: {@code GET /core/virtual-machines?search=name}, page by page (the API's
   * search also matches parts of names, so the answer is filtered).
   */
  public Future<List<Vm>> findVmsByName(String name) {
    return page(name, 1, new ArrayList<>());
  }

  private Future<List<Vm>> page(String name, int page, List<Vm> found) {
    String query = "?search=" + java.net.URLEncoder.encode(name, java.nio.charset.StandardCharsets.UTF_8)
        .replace("+", "%20") + "&page=" + page + "&page_size=" + PAGE_SIZE;
    return call(HttpMethod.GET, "/core/virtual-machines" + query, null).compose(body -> {
      JsonArray instances = body.getJsonArray("instances", new JsonArray());
      for (Object o : instances) {
        if (o instanceof JsonObject vm && name.equals(vm.getString("name")) && vm.getLong("id") != null) {
          found.add(Vm.fromJson(vm));
        }
      }
      if (instances.size() < PAGE_SIZE || page >= MAX_PAGES) {
        return Future.succeededFuture(found);
      }
      return page(name, page + 1, found);
    });
  }

  /** {@code POST /core/virtual-machines/{id}/sg-rules}: adds one firewall rule to the VM. */
  public Future<Void> addSecurityRule(long vmId, SecurityRule rule) {
    return call(HttpMethod.POST, "/core/virtual-machines/" + vmId + "/sg-rules", rule.toJson()).mapEmpty();
  }

  /** {@code DELETE /core/virtual-machines/{id}}. */
  public Future<Void> deleteVm(long id) {
    return call(HttpMethod.DELETE, "/core/virtual-machines/" + id, null).mapEmpty();
  }

  private Future<JsonObject> call(HttpMethod method, String path, JsonObject body) {
    HttpRequest<Buffer> request = client.requestAbs(method, baseUrl + path)
        .putHeader(API_KEY_HEADER, apiKey)
        .putHeader("accept", "application/json")
        .timeout(timeoutMs);
    Future<HttpResponse<Buffer>> sent = body == null ? request.send() : request.sendJsonObject(body);
    String what = method.name() + " " + pathOnly(path);
    return sent.transform(ar -> {
      if (ar.failed()) {
        String m = ar.cause().getMessage() == null ? ar.cause().getClass().getSimpleName() : ar.cause().getMessage();
        log.debug("Hyperstack {} failed: {}", what, m);
        return Future.failedFuture(new HyperstackException(0, "Hyperstack API unreachable (" + what + "): " + m, null,
            ar.cause()));
      }
      HttpResponse<Buffer> resp = ar.result();
      log.debug("Hyperstack {} -> HTTP {}", what, resp.statusCode());
      return Future.succeededFuture(envelope(what, resp));
    });
  }

  private static JsonObject envelope(String what, HttpResponse<Buffer> resp) {
    int status = resp.statusCode();
    JsonObject json = null;
    try {
      Buffer b = resp.body();
      json = b == null || b.length() == 0 ? null : new JsonObject(b);
    } catch (DecodeException | ClassCastException e) {
      // not JSON: a proxy's error page, for instance
    }
    if (json == null) {
      if (status >= 200 && status < 300) {
        throw new HyperstackException(status, "Hyperstack answered " + what + " with HTTP " + status
            + " and no JSON body", null, null);
      }
      throw new HyperstackException(status, "Hyperstack answered " + what + " with HTTP " + status, null, null);
    }
    if (status >= 300 || Boolean.FALSE.equals(json.getValue("status"))) {
      String message = json.getString("message");
      if (message == null || message.isBlank()) {
        message = "Hyperstack answered " + what + " with HTTP " + status;
      }
      throw new HyperstackException(status, message, json.getString("error_reason"), null);
    }
    return json;
  }

  private static String pathOnly(String path) {
    int q = path.indexOf('?');
    return q < 0 ? path : path.substring(0, q);
  }

  public void close() {
    client.close();
  }
}
