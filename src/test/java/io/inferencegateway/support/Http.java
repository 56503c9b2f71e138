package io.inferencegateway.support;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/** Small real-HTTP client helpers for tests (blocking with {@code await}, which tests may do). */
public final class Http {

  private final HttpClient client;
  private final io.vertx.core.Context context;

  public Http(Vertx vertx) {
    this.client = vertx.createHttpClient(new io.vertx.core.http.HttpClientOptions(),
        new io.vertx.core.http.PoolOptions().setHttp1MaxSize(64));
    this.context = vertx.getOrCreateContext();
  }

  /**
   * Builds the request chain on a Vert.x context: attached from the test thread, a fast response could arrive before
   * {@code body()} is attached and its bytes would be dropped.
   */
  public <T> io.vertx.core.Future<T> onContext(java.util.function.Supplier<io.vertx.core.Future<T>> chain) {
    io.vertx.core.Promise<T> result = io.vertx.core.Promise.promise();
    context.runOnContext(v -> chain.get().onComplete(result));
    return result.future();
  }

  public record Response(int status, io.vertx.core.MultiMap headers, Buffer body) {
    public JsonObject json() {
      return body.toJsonObject();
    }

    /** The SSE data payloads, in order (without the "data: " prefix). */
    public List<String> events() {
      List<String> out = new ArrayList<>();
      for (String event : body.toString().split("\n\n")) {
        if (event.startsWith("data: ")) {
          out.add(event.substring(6));
        }
      }
      return out;
    }

    public String header(String name) {
      return headers.get(name);
    }
  }

  public Response post(String url, String bearer, Object body) {
    return send(HttpMethod.POST, url, bearer, "application/json",
        body instanceof Buffer b ? b : Buffer.buffer(body instanceof JsonObject j ? j.encode() : String.valueOf(body)));
  }

  public Response get(String url, String bearer) {
    return send(HttpMethod.GET, url, bearer, null, null);
  }

  public Response send(HttpMethod method, String url, String bearer, String contentType, Buffer body) {
    return sendAsync(method, url, bearer, contentType, body).await();
  }

  /** Sends without waiting: for tests that fire many requests at once. */
  public io.vertx.core.Future<Response> postAsync(String url, String bearer, Object body) {
    return sendAsync(HttpMethod.POST, url, bearer, "application/json",
        body instanceof Buffer b ? b : Buffer.buffer(body instanceof JsonObject j ? j.encode() : String.valueOf(body)));
  }

  public io.vertx.core.Future<Response> sendAsync(HttpMethod method, String url, String bearer, String contentType,
                                                  Buffer body) {
    URI u = URI.create(url);
    RequestOptions o = new RequestOptions().setMethod(method).setHost(u.getHost()).setPort(u.getPort())
        .setURI(u.getRawPath() + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery())).setTimeout(30_000);
    if (bearer != null) {
      o.putHeader("Authorization", "Bearer " + bearer);
    }
    if (contentType != null) {
      o.putHeader("Content-Type", contentType);
    }
    return onContext(() -> client.request(o)
        .compose(req -> body == null ? req.send() : req.send(body))
        .compose(resp -> resp.body().map(b -> new Response(resp.statusCode(), resp.headers(), b))));
  }

  public HttpClient raw() {
    return client;
  }

  public void close() {
    client.close().await();
  }
}
