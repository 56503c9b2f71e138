package io.inferencegateway.ingress;

import io.inferencegateway.config.ConfigLoader;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.routing.ModelRegistry;
import io.inferencegateway.routing.ModelRoute;
import io.inferencegateway.routing.RouteHints;
import io.inferencegateway.store.ApiKeyRow;
import io.inferencegateway.store.ModelRow;
import io.inferencegateway.store.ReplicaRow;
import io.inferencegateway.support.Fake;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** What the stage tests share: exchanges over a fake request, keys, and a model registry without a database. */
final class Stages {

  static final GatewayConfig CONFIG = GatewayConfig.fromJson(ConfigLoader.bundledDefaults());

  private Stages() {}

  /** An exchange whose request has these headers and no response (stages before the relay never answer). */
  static ProxyExchange exchange(Operation op, Map<String, String> headers) {
    HttpServerRequest request = Fake.of(HttpServerRequest.class)
        .on("getHeader", args -> headers.get(String.valueOf(args[0]).toLowerCase()))
        .get();
    return new ProxyExchange(request, op, 0);
  }

  static ProxyExchange exchange(Operation op) {
    return exchange(op, Map.of());
  }

  static ApiKeyRow key(long id, int rpm, Integer tpm, List<String> models) {
    return new ApiKeyRow(id, "u" + id, "hash" + id, "sk-abc", rpm, tpm, models, true, null, Instant.EPOCH, null);
  }

  /** A registry of the given models, each with {@code replicas} replicas at 10.0.0.x (no database involved). */
  static ModelRegistry registry(int replicas, String... models) {
    ModelRegistry registry = new ModelRegistry(null, CONFIG.router());
    List<ModelRow> rows = new ArrayList<>();
    List<ReplicaRow> replicaRows = new ArrayList<>();
    long replicaId = 1;
    for (int m = 0; m < models.length; m++) {
      rows.add(new ModelRow(m + 1, models[m], null, Instant.EPOCH));
      for (int r = 0; r < replicas; r++, replicaId++) {
        replicaRows.add(new ReplicaRow(replicaId, m + 1, "http://10.0.0." + replicaId + ":8000", null, null, null,
            ReplicaRow.SUCCESS, null, null, null, null, null, null, null, null, null, Instant.EPOCH, Instant.EPOCH));
      }
    }
    registry.apply(rows, replicaRows);
    return registry;
  }

  /** A parsed request for a model of the registry, as the parse stage would leave it. */
  static ParsedRequest parsed(ModelRoute route, boolean stream) {
    return new ParsedRequest(route, stream, false, Buffer.buffer("{}"), RouteHints.NONE, null);
  }
}
