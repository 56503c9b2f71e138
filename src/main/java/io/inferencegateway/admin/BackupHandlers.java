package io.inferencegateway.admin;

import io.inferencegateway.backup.BackupOutcome;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.scheduler.CronSchedule;
import io.inferencegateway.store.BackupStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.time.Instant;
import java.util.List;

/**
 * {@code GET /backups}: the backup attempts, newest first (paged with {@code limit} and the {@code before_id} cursor),
 * with the schedule, its next time and the upload target. Credentials of the upload target are never shown.
 */
final class BackupHandlers {

  static final int DEFAULT_LIMIT = 50;

  private final AdminContext admin;
  private final BackupStore store;

  BackupHandlers(AdminContext admin) {
    this.admin = admin;
    this.store = new BackupStore(admin.services.database());
  }

  Future<?> list(RoutingContext ctx) {
    FieldErrors errors = new FieldErrors();
    Long limit = TableHandlers.queryLong(ctx, errors, "limit", (long) DEFAULT_LIMIT, 1L, (long) TableHandlers.MAX_LIMIT);
    Long beforeId = TableHandlers.queryLong(ctx, errors, "before_id", null, 1L, null);
    errors.throwIfAny();
    GatewayConfig.Backup settings = admin.services.config().backup();
    return store.list(limit.intValue(), beforeId).compose(rows -> {
      JsonArray data = new JsonArray();
      rows.forEach(o -> data.add(o.toJson()));
      Object nextBeforeId = rows.size() == limit ? rows.get(rows.size() - 1).id() : null;
      CronSchedule schedule = CronSchedule.parse("backup.schedule", settings.schedule()).orElse(null);
      Instant next = schedule == null ? null : schedule.next(Instant.now()).orElse(null);
      GatewayConfig.S3 s3 = settings.s3();
      return AdminContext.json(ctx, 200, new JsonObject()
          .put("data", data)
          .put("limit", limit)
          .put("before_id", beforeId)
          .put("next_before_id", nextBeforeId)
          .put("schedule", schedule == null ? null : schedule.expression())
          .put("next_run", next == null ? null : next.toString())
          .put("keep", settings.keep())
          .put("s3", s3.enabled() ? new JsonObject().put("bucket", s3.bucket()).put("prefix", s3.prefix())
              .put("endpoint", s3.endpoint()) : null)
          .put("last_success", lastSuccess(rows)));
    });
  }

  /** The newest successful backup on this page (the first page is what dashboards read). */
  private static JsonObject lastSuccess(List<BackupOutcome> rows) {
    return rows.stream().filter(BackupOutcome::succeeded).findFirst().map(BackupOutcome::toJson).orElse(null);
  }
}
