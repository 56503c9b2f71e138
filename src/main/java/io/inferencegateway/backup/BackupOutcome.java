package io.inferencegateway.backup;

import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.time.Instant;

/**
 * What one backup attempt did: the file it wrote (name, size, SHA-256 of the gzip file), where it was uploaded, or
 * why it failed.
 *
 * @param triggeredBy {@code schedule} or {@code command}
 * @param fileName the file in the backup directory (also set when the upload failed after the dump succeeded)
 * @param s3Key the object key it was uploaded to, null when no upload is configured or it failed
 */
public record BackupOutcome(Long id, Instant startedAt, Instant finishedAt, String triggeredBy, int attempt,
                            boolean succeeded, String fileName, Long sizeBytes, String sha256, String s3Key,
                            String error) {

  public static final String SCHEDULE = "schedule";
  public static final String COMMAND = "command";

  public long durationMs() {
    return Duration.between(startedAt, finishedAt).toMillis();
  }

  public String status() {
    return succeeded ? "succeeded" : "failed";
  }

  public BackupOutcome withId(long id) {
    return new BackupOutcome(id, startedAt, finishedAt, triggeredBy, attempt, succeeded, fileName, sizeBytes, sha256,
        s3Key, error);
  }

  /** The admin API's shape ({@code GET /api/v1/backups}). */
  public JsonObject toJson() {
    return new JsonObject()
        .put("id", id)
        .put("started_at", startedAt.toString())
        .put("finished_at", finishedAt.toString())
        .put("triggered_by", triggeredBy)
        .put("attempt", attempt)
        .put("status", status())
        .put("file", fileName)
        .put("size_bytes", sizeBytes)
        .put("duration_ms", durationMs())
        .put("sha256", sha256)
        .put("s3_key", s3Key)
        .put("error", error);
  }
}
