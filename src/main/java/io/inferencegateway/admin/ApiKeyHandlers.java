package io.inferencegateway.admin;

import io.inferencegateway.auth.ApiKeys;
import io.inferencegateway.store.ApiKeyRow;
import io.inferencegateway.store.ApiKeyStore;
import io.inferencegateway.store.ModelRow;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/** {@code POST /generate_api_key}, {@code POST /delete_api_key}, {@code GET /api_keys}. */
final class ApiKeyHandlers {

  private static final int USER_ID_MAX = 255;
  static final String KEY_NOT_FOUND = "API key not found";

  private final AdminContext admin;

  ApiKeyHandlers(AdminContext admin) {
    this.admin = admin;
  }

  /** Creates a key; the response is the only place its plaintext ever appears. */
  Future<?> generate(RoutingContext ctx) {
    FieldErrors errors = new FieldErrors();
    JsonInput in = AdminContext.body(ctx, errors, "user_id", "allowed_rpm", "allowed_tpm", "models", "expires_at",
        "priority", "max_concurrent_requests", "queue_weight");
    String userId = in.string("user_id", true, false);
    if (userId != null && userId.isEmpty()) {
      errors.add("user_id", "Shorter than minimum length 1.");
    } else if (userId != null && userId.length() > USER_ID_MAX) {
      errors.add("user_id", "Longer than maximum length " + USER_ID_MAX + ".");
    }
    Long rpm = in.integer("allowed_rpm", false, false, 1L, (long) Integer.MAX_VALUE);
    Long tpm = in.integer("allowed_tpm", false, true, 1L, (long) Integer.MAX_VALUE);
    List<String> models = modelNames(in);
    Instant expiresAt = expiresAt(in);
    Integer[] admission = admission(in, false);
    in.rejectUnknown();
    errors.throwIfAny();
    return checkModelsExist(models, errors).compose(v -> {
      ApiKeys.Generated key = ApiKeys.generate();
      int allowedRpm = rpm != null ? rpm.intValue() : admin.config.limits().defaultRpm();
      return admin.services.apiKeys().insert(new ApiKeyStore.NewApiKey(userId, key.hash(), key.prefix(), allowedRpm,
              tpm == null ? null : tpm.intValue(), models, expiresAt, admission[0], admission[1], admission[2]))
          .compose(row -> admin.keyChanged(row.id()).map(row))
          .compose(row -> {
            JsonObject body = new JsonObject().put("id", row.id()).put("api_key", key.plaintext())
                .put("enabled", row.enabled());
            AdminJson.key(row).forEach(e -> body.getMap().putIfAbsent(e.getKey(), e.getValue()));
            ctx.response().putHeader(io.vertx.core.http.HttpHeaders.CACHE_CONTROL, "no-store"); // the key, shown once
            return AdminContext.json(ctx, 200, body);
          });
    });
  }

  /** The fair-admission settings: priority, max_concurrent_requests, queue_weight (each null: the default). */
  private static Integer[] admission(JsonInput in, boolean required) {
    Long priority = in.integer("priority", required, true, 0L, (long) ApiKeyRow.MAX_PRIORITY);
    Long concurrent = in.integer("max_concurrent_requests", required, true, 1L, 1_000_000L);
    Long weight = in.integer("queue_weight", required, true, 1L, 1000L);
    return new Integer[] {priority == null ? null : priority.intValue(), concurrent == null ? null : concurrent.intValue(),
        weight == null ? null : weight.intValue()};
  }

  /**
   * {@code PUT /api_keys/{id}}: the key's fair-admission settings, all three given (null restores a default) → 204.
   */
  Future<?> updateAdmission(RoutingContext ctx) {
    FieldErrors errors = new FieldErrors();
    JsonInput in = AdminContext.body(ctx, errors, "priority", "max_concurrent_requests", "queue_weight");
    Integer[] admission = admission(in, true);
    in.rejectUnknown();
    errors.throwIfAny();
    Long id = ModelHandlers.pathId(ctx);
    if (id == null) {
      return Future.failedFuture(AdminFailure.notFound(KEY_NOT_FOUND));
    }
    return admin.services.apiKeys().byId(id).compose(found -> {
      found.orElseThrow(() -> AdminFailure.notFound(KEY_NOT_FOUND));
      return admin.services.apiKeys().setAdmission(id, admission[0], admission[1], admission[2])
          .compose(v -> admin.keyChanged(id));
    }).compose(v -> AdminContext.noContent(ctx));
  }

  /** {@code null} (all models), or the distinct names listed; bad items are reported per index. */
  private static List<String> modelNames(JsonInput in) {
    JsonArray list = in.list("models", false, true);
    if (list == null) {
      return null;
    }
    if (list.isEmpty()) {
      in.errors().add("models", "Shorter than minimum length 1.");
      return null;
    }
    Set<String> names = new LinkedHashSet<>();
    for (int i = 0; i < list.size(); i++) {
      if (list.getValue(i) instanceof String s && !s.isBlank()) {
        names.add(s);
      } else {
        in.errors().child("models").add(Integer.toString(i), list.getValue(i) instanceof String
            ? "Must not be blank." : "Not a valid string.");
      }
    }
    return List.copyOf(names);
  }

  private static Instant expiresAt(JsonInput in) {
    String text = in.string("expires_at", false, true);
    if (text == null) {
      return null;
    }
    Instant at = parseTime(text.trim());
    if (at == null) {
      in.errors().add("expires_at", "Not a valid datetime.");
      return null;
    }
    if (!at.isAfter(Instant.now())) {
      in.errors().add("expires_at", "Must be in the future.");
      return null;
    }
    return at;
  }

  /** ISO-8601 with an offset or Z; without one, UTC is assumed (as the gateway stores times). */
  static Instant parseTime(String text) {
    try {
      return OffsetDateTime.parse(text).toInstant();
    } catch (DateTimeParseException e) {
      try {
        return LocalDateTime.parse(text).toInstant(ZoneOffset.UTC);
      } catch (DateTimeParseException e2) {
        try {
          return java.time.LocalDate.parse(text).atStartOfDay().toInstant(ZoneOffset.UTC);
        } catch (DateTimeParseException e3) {
          return null;
        }
      }
    }
  }

  private Future<Void> checkModelsExist(List<String> models, FieldErrors errors) {
    if (models == null) {
      return Future.succeededFuture();
    }
    return admin.services.models().models().map(rows -> {
      Set<String> known = rows.stream().map(ModelRow::name).collect(Collectors.toSet());
      for (int i = 0; i < models.size(); i++) {
        if (!known.contains(models.get(i))) {
          errors.child("models").add(Integer.toString(i), "Unknown model '" + models.get(i) + "'.");
        }
      }
      errors.throwIfAny();
      return null;
    });
  }

  /** Deletes the key, or disables it if it has usage rows (they keep pointing at it), as the toolkit did. */
  Future<?> delete(RoutingContext ctx) {
    FieldErrors errors = new FieldErrors();
    JsonInput in = AdminContext.body(ctx, errors, "user_id", "api_key_id");
    String userId = in.string("user_id", true, false);
    Long id = in.integer("api_key_id", true, false, null, null);
    in.rejectUnknown();
    errors.throwIfAny();
    ApiKeyStore keys = admin.services.apiKeys();
    return keys.byId(id).compose(found -> {
      ApiKeyRow key = found.filter(k -> k.userId().equals(userId)).orElseThrow(() ->
          AdminFailure.notFound("API key not found for the given user_id and api_key_id"));
      if (!key.enabled()) {
        throw AdminFailure.message(409, "API key already disabled");
      }
      return keys.hasUsage(key.id()).compose(used -> used
          ? keys.setEnabled(key.id(), false)
              .compose(v -> admin.keyChanged(key.id()))
              .compose(v -> AdminContext.json(ctx, 200, new JsonObject().put("message", "API key disabled successfully")))
          : keys.delete(key.id())
              .compose(v -> admin.keyChanged(key.id()))
              .compose(v -> AdminContext.json(ctx, 200, new JsonObject().put("message", "API key deleted successfully"))));
    });
  }

  /** Every key, newest first, without secrets; {@code ?user_id=} narrows to one user. */
  Future<?> list(RoutingContext ctx) {
    String userId = ctx.request().getParam("user_id");
    return admin.services.apiKeys().all().compose(rows -> {
      List<ApiKeyRow> keys = new ArrayList<>(rows);
      keys.sort(Comparator.comparingLong(ApiKeyRow::id).reversed());
      JsonArray out = new JsonArray();
      for (ApiKeyRow k : keys) {
        if (userId == null || userId.equals(k.userId())) {
          out.add(AdminJson.key(k));
        }
      }
      return AdminContext.json(ctx, 200, out);
    });
  }
}
