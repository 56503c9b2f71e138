package io.inferencegateway.ingress;

import io.inferencegateway.routing.ModelRegistry;
import io.inferencegateway.routing.ModelRoute;
import io.inferencegateway.store.ApiKeyRow;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * OpenAI's model list ({@code {"object": "list", "data": [...]}}) of the models a key may use, for
 * {@code GET /v1/models} and a user key's {@code GET /api/v1/models}.
 */
final class ModelList {

  private ModelList() {}

  /** @param activeOnly only models with a replica the router may use now */
  static JsonObject openAi(ModelRegistry registry, ApiKeyRow key, boolean activeOnly) {
    JsonArray data = new JsonArray();
    for (ModelRoute m : registry.models()) {
      if (key.models() != null && !key.models().contains(m.name()) || activeOnly && !m.hasRoutableReplica()) {
        continue;
      }
      data.add(new JsonObject().put("id", m.name()).put("object", "model").put("created", 0)
          .put("owned_by", "inference-gateway").put("active", m.hasRoutableReplica()));
    }
    return new JsonObject().put("object", "list").put("data", data);
  }
}
