package io.inferencegateway.admin;

import io.inferencegateway.routing.ModelRoute;
import io.inferencegateway.store.ModelRow;
import io.inferencegateway.store.ModelStore;
import io.inferencegateway.store.ReplicaRow;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** {@code /models}: list (admin or OpenAI shape), get by name, create, delete. */
final class ModelHandlers {

  static final String MODEL_NOT_FOUND = "Model not found";
  private static final int NAME_MAX = 255;

  private final AdminContext admin;

  ModelHandlers(AdminContext admin) {
    this.admin = admin;
  }

  /**
   * {@code GET /api/v1/models} with the admin key or a console session: the toolkit's list of models (plus replica
   * count and whether each is active); {@code ?active=1} keeps models with a routable replica. (A user key gets
   * OpenAI's list from the ingress, which mounts this path first.)
   */
  Future<?> list(RoutingContext ctx) {
    return adminList(ctx, queryBoolean(ctx, "active"));
  }

  private Future<Void> adminList(RoutingContext ctx, boolean activeOnly) {
    ModelStore store = admin.services.models();
    return Future.all(store.models(), store.replicas()).compose(all -> {
      List<ModelRow> models = all.resultAt(0);
      Map<Long, Integer> counts = replicaCounts(all.resultAt(1));
      JsonArray out = new JsonArray();
      for (ModelRow m : models) {
        boolean active = active(m.name());
        if (!activeOnly || active) {
          out.add(AdminJson.model(m, counts.getOrDefault(m.id(), 0), active));
        }
      }
      return AdminContext.json(ctx, 200, out);
    });
  }

  private static Map<Long, Integer> replicaCounts(List<ReplicaRow> replicas) {
    Map<Long, Integer> counts = new HashMap<>();
    for (ReplicaRow r : replicas) {
      counts.merge(r.modelId(), 1, Integer::sum);
    }
    return counts;
  }

  private boolean active(String name) {
    ModelRoute route = admin.services.registry().model(name);
    return route != null && route.hasRoutableReplica();
  }

  /** {@code GET /api/v1/models/{name}}: the name may contain slashes, raw or percent-encoded ({@code %2F}). */
  Future<?> get(RoutingContext ctx) {
    String name = modelNameFromPath(ctx.normalizedPath());
    if (name == null || name.isEmpty()) {
      return Future.failedFuture(AdminFailure.notFound(MODEL_NOT_FOUND));
    }
    ModelStore store = admin.services.models();
    return store.modelByName(name).compose(found -> {
      ModelRow m = found.orElseThrow(() -> AdminFailure.notFound(MODEL_NOT_FOUND));
      return store.replicasOf(m.id())
          .compose(replicas -> AdminContext.json(ctx, 200, AdminJson.model(m, replicas.size(), active(m.name()))));
    });
  }

  /** The model name after {@code /api/v1/models/}, percent-decoded once; null if the encoding is broken. */
  static String modelNameFromPath(String path) {
    String prefix = AdminApi.PREFIX + "/models/";
    if (path == null || !path.startsWith(prefix)) {
      return null;
    }
    return PercentDecoder.decode(path.substring(prefix.length()));
  }

  /** {@code POST /api/v1/models {name}} → 201 {@code {model_name, id}}; 400 {@code {message}} if it exists. */
  Future<?> create(RoutingContext ctx) {
    FieldErrors errors = new FieldErrors();
    JsonInput in = AdminContext.body(ctx, errors, "name");
    String name = in.text("name", true, false, NAME_MAX);
    in.rejectUnknown();
    errors.throwIfAny();
    ModelStore store = admin.services.models();
    return store.modelByName(name).compose(existing -> {
      if (existing.isPresent()) {
        throw exists();
      }
      return store.insertModel(name)
          // lost a race with another request creating the same name: the unique key refused this one
          .recover(err -> store.modelByName(name).compose(again -> again.isPresent()
              ? Future.failedFuture(exists()) : Future.failedFuture(err)));
    }).compose(model -> admin.modelsChanged(model.id()).compose(v -> AdminContext.json(ctx, 201,
        new JsonObject().put("model_name", model.name()).put("id", model.id()))));
  }

  private static AdminFailure exists() {
    return AdminFailure.message(400, "Model already exists.");
  }

  /**
   * {@code DELETE /api/v1/models/{id}} → 204, with its replicas and their security rules. Deleting a model that does
   * not exist also answers 204, as the toolkit did (DELETE is idempotent; the toolkit's scripts rely on it).
   */
  Future<?> delete(RoutingContext ctx) {
    Long id = pathId(ctx);
    if (id == null) {
      return AdminContext.noContent(ctx);
    }
    ModelStore store = admin.services.models();
    return store.modelById(id).compose(found -> found.isEmpty() ? AdminContext.noContent(ctx)
        : store.deleteModel(id).compose(v -> admin.modelsChanged(id)).compose(v -> AdminContext.noContent(ctx)));
  }

  /** The numeric {@code id} path parameter, or null if it does not fit a long. */
  static Long pathId(RoutingContext ctx) {
    String raw = ctx.pathParam("id");
    return raw == null ? null : JsonInput.toLong(raw);
  }

  /** A boolean query parameter; absent means false; anything but a boolean spelling fails with 400. */
  static boolean queryBoolean(RoutingContext ctx, String name) {
    String raw = ctx.request().getParam(name);
    if (raw == null || raw.isEmpty()) {
      return false;
    }
    Boolean b = JsonInput.toBoolean(raw);
    if (b == null) {
      throw AdminFailure.invalid(name, "Not a valid boolean.");
    }
    return b;
  }
}
