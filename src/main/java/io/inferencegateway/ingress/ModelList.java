package io.inferencegateway.ingress;

import io.inferencegateway.routing.ModelRegistry;
import io.inferencegateway.routing.ModelRoute;
import io.inferencegateway.store.ApiKeyRow;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * OpenAI's model list ({@code {"object": "list", "data": [...]}}) of the models a key may use. Shared by
 * {@code GET /v1/models} and the user-key mode of {@code GET /api/v1/models} (admin API).
 */
public final class ModelList {

  private ModelList() {}

  public static JsonObject openAi(ModelRegistry registry, ApiKeyRow key) {
    JsonArray data = new JsonArray();
    for (ModelRoute m : registry.models()) {
      if (key.models() != null && !key.models().contains(m.name())) {
        continue;
      }
      data.add(new JsonObject().put("id", m.name()).put("object", "model").put("created", 0)
          .put("owned_by", "inference-gateway").put("active", m.hasRoutableReplica()));
    }
    return new JsonObject().put("object", "list").put("data", data);
  }
}
