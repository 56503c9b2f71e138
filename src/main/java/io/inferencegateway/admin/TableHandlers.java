package io.inferencegateway.admin;

import io.inferencegateway.hyperstack.ReplicaKeys;
import io.inferencegateway.store.TableStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.Map;

/**
 * {@code GET /tables} and {@code GET /tables/{name}}: the toolkit's raw table views, newest rows first, paged with
 * {@code limit}/{@code offset} or the {@code before_id} cursor. Secret columns are never selected (see
 * {@link TableStore}). The toolkit's own table names {@code api_key} and {@code metric} are accepted as aliases of
 * {@code api_keys} and {@code metrics}, so its console keeps working.
 */
final class TableHandlers {

  static final int DEFAULT_LIMIT = 100;
  static final int MAX_LIMIT = 1000;
  private static final Map<String, String> ALIASES = Map.of("api_key", "api_keys", "metric", "metrics");

  private final AdminContext admin;

  TableHandlers(AdminContext admin) {
    this.admin = admin;
  }

  Future<?> list(RoutingContext ctx) {
    return AdminContext.json(ctx, 200, new JsonObject().put("tables", new JsonArray(TableStore.TABLES.keySet().stream().toList())));
  }

  Future<?> rows(RoutingContext ctx) {
    String requested = ctx.pathParam("name");
    String table = ALIASES.getOrDefault(requested, requested);
    if (table == null || !TableStore.TABLES.containsKey(table)) {
      return Future.failedFuture(AdminFailure.notFound("Detail not found"));
    }
    FieldErrors errors = new FieldErrors();
    Long limit = queryLong(ctx, errors, "limit", (long) DEFAULT_LIMIT, 1L, (long) MAX_LIMIT);
    Long offset = queryLong(ctx, errors, "offset", 0L, 0L, (long) Integer.MAX_VALUE);
    Long beforeId = queryLong(ctx, errors, "before_id", null, 1L, null);
    errors.throwIfAny();
    return admin.tables.page(table, limit.intValue(), offset.intValue(), beforeId).compose(page -> {
      if ("replicas".equals(table)) {
        // a run command may carry tokens (HF_TOKEN=..., --api-key ...): shown masked, as everywhere
        page.rows().forEach(row -> row.put("run_command", ReplicaKeys.mask(row.getString("run_command"))));
      }
      boolean more = !page.rows().isEmpty() && page.total() > offset + page.rows().size();
      Object nextBeforeId = more ? page.rows().get(page.rows().size() - 1).getValue("id") : null;
      return AdminContext.json(ctx, 200, new JsonObject()
          .put("data", new JsonArray(page.rows()))
          .put("total", page.total())
          .put("limit", limit)
          .put("offset", offset)
          .put("before_id", beforeId)
          .put("next_before_id", nextBeforeId));
    });
  }

  /** A whole-number query parameter within range; absent gives {@code absent}; problems are recorded under its name. */
  static Long queryLong(RoutingContext ctx, FieldErrors errors, String name, Long absent, Long min, Long max) {
    String raw = ctx.request().getParam(name);
    if (raw == null || raw.isEmpty()) {
      return absent;
    }
    Long v = JsonInput.toLong(raw);
    if (v == null) {
      errors.add(name, "Not a valid integer.");
      return absent;
    }
    String range = JsonInput.checkRange(v, min, max);
    if (range != null) {
      errors.add(name, range);
      return absent;
    }
    return v;
  }
}
