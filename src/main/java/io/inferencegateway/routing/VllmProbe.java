package io.inferencegateway.routing;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * Asks a vLLM server whether it can serve a model: {@code GET /health} must answer 200, then {@code GET /v1/models}
 * must list the model. Shared by the health checks (scheduler) and by provisioning, which waits for a new VM.
 */
public final class VllmProbe {

  /** Why a server is not ready; {@link #wrongModel} when it serves, but other models (waiting will not help). */
  public static final class NotReady extends RuntimeException {
    private final boolean wrongModel;

    NotReady(String message, boolean wrongModel) {
      super(message, null, false, false);
      this.wrongModel = wrongModel;
    }

    public boolean wrongModel() {
      return wrongModel;
    }
  }

  /** A plain answer: status and body. */
  public record Reply(int status, Buffer body) {}

  private final HttpClient client;
  private final long timeoutMs;

  public VllmProbe(HttpClient client, long timeoutMs) {
    this.client = client;
    this.timeoutMs = timeoutMs;
  }

  /**
   * Succeeds when the server is ready for {@code model} (any model when null); fails with {@link NotReady} or the
   * transport's error.
   */
  public Future<Void> ready(UpstreamTarget target, String model) {
    return get(target, "/health").compose(health -> {
      if (health.status() != 200) {
        return Future.failedFuture(new NotReady("/health answered HTTP " + health.status(), false));
      }
      return get(target, "/v1/models");
    }).compose(models -> {
      if (models.status() == 401 || models.status() == 403) {
        return Future.failedFuture(new NotReady("/v1/models answered HTTP " + models.status()
            + ": the replica refuses the gateway's API key for it", false));
      }
      if (models.status() != 200) {
        return Future.failedFuture(new NotReady("/v1/models answered HTTP " + models.status(), false));
      }
      List<String> served = servedModels(models.body());
      if (model == null || served.contains(model)) {
        return Future.succeededFuture();
      }
      return Future.failedFuture(new NotReady("serves " + served + ", not " + model, true));
    });
  }

  /** A GET on the server (also used to scrape {@code /metrics}). */
  public Future<Reply> get(UpstreamTarget target, String path) {
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET).setHost(target.host())
        .setPort(target.port()).setSsl(target.ssl()).setURI(target.uri(path)).setTimeout(timeoutMs);
    if (target.apiKey() != null) {
      options.putHeader(io.vertx.core.http.HttpHeaders.AUTHORIZATION, target.authorization());
    }
    return client.request(options).compose(req -> req.send())
        .compose(resp -> resp.body().map(b -> new Reply(resp.statusCode(), b)));
  }

  /** The model ids of an OpenAI model list; empty if the body is not one. */
  static List<String> servedModels(Buffer body) {
    List<String> out = new ArrayList<>();
    try {
      JsonArray data = new JsonObject(body).getJsonArray("data");
      if (data != null) {
        for (Object o : data) {
          if (o instanceof JsonObject m && m.getString("id") != null) {
            out.add(m.getString("id"));
          }
        }
      }
    } catch (DecodeException | ClassCastException e) {
      // not the OpenAI list shape: nothing served
    }
    return out;
  }
}
