package io.inferencegateway.backup;

import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.store.Database;
import io.inferencegateway.store.DatabaseUrl;
import io.inferencegateway.store.Dialect;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.zip.GZIPOutputStream;

/**
 * Takes one backup: a consistent dump of the database (MariaDB: mysqldump {@code --single-transaction}; embedded H2:
 * its own {@code SCRIPT TO}), gzip-compressed into the backup directory under a UTC-stamped name, the oldest files
 * beyond {@code backup.keep} deleted, then uploaded when S3 is configured. The dump is written to a {@code .part}
 * file and renamed when complete, so a backup file is always whole; a second run for the same time (two gateways, or
 * a retry) writes the same name and key again, harmlessly.
 *
 * <p>Blocking work (the client program, file IO, the S3 SDK) runs on a worker executor of its own, never on an event
 * loop. Failures do not escape: they come back as a failed {@link BackupOutcome}.
 */
public final class BackupService {

  private static final Logger log = LoggerFactory.getLogger(BackupService.class);

  private final Database db;
  private final GatewayConfig config;
  private final WorkerExecutor worker;
  private final Clock clock;
  private final MariaDbClient mariadb;

  public BackupService(Database db, GatewayConfig config, WorkerExecutor worker, Clock clock) {
    this.db = db;
    this.config = config;
    this.worker = worker;
    this.clock = clock;
    this.mariadb = db.dialect() == Dialect.MYSQL ? new MariaDbClient(DatabaseUrl.parse(config.database().url()),
        config.backup().dumpCommand(), config.backup().clientCommand()) : null;
  }

  public Path directory() {
    return config.backup().directory(config.database().dataDir());
  }

  /** {@code mariadb} or {@code h2}: the engine a backup of this database restores into. */
  public String engine() {
    return db.dialect() == Dialect.MYSQL ? "mariadb" : "h2";
  }

  /**
   * @param nameTime the time the file is named after: the scheduled time for scheduled backups (so that two runs for
   *     the same time produce the same file and key), now for a backup on command
   */
  public Future<BackupOutcome> take(String triggeredBy, Instant nameTime, int attempt) {
    Instant started = clock.instant();
    String name = BackupFiles.name(engine(), nameTime);
    Path dir = directory();
    Path file = dir.resolve(name);
    // unique per run: two runs for the same time (two gateways sharing the directory) never write one file
    Path part = dir.resolve(BackupFiles.partName(name));
    long timeoutMs = config.backup().timeoutMs();
    Future<Void> dumped = worker.<Void>executeBlocking(() -> {
      Files.createDirectories(dir);
      Files.deleteIfExists(part);
      if (mariadb != null) {
        try (OutputStream out = new GZIPOutputStream(new BufferedOutputStream(Files.newOutputStream(part), 1 << 16),
            1 << 16)) {
          mariadb.dump(out, timeoutMs);
        }
      }
      return null;
    }, false).compose(v -> mariadb != null ? Future.succeededFuture() : h2Script(part, timeoutMs));
    return dumped
        .compose(v -> worker.executeBlocking(() -> {
          String sha256 = BackupFiles.sha256(part);
          long size = Files.size(part);
          Files.move(part, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
          BackupFiles.deleteStaleParts(dir, java.time.Duration.ofMillis(2 * timeoutMs + 60_000));
          for (Path old : BackupFiles.prune(dir, config.backup().keep())) {
            log.info("Deleted old backup {} (backup.keep = {})", old.getFileName(), config.backup().keep());
          }
          return new BackupOutcome(null, started, started, triggeredBy, attempt, true, name, size, sha256, null, null);
        }, false))
        .compose(local -> upload(file, local))
        .map(o -> finished(o, null))
        .recover(err -> worker.executeBlocking(() -> {
          Files.deleteIfExists(part);
          return null;
        }, false).transform(ignored -> Future.succeededFuture(finished(new BackupOutcome(null, started, started,
            triggeredBy, attempt, false, null, null, null, null, null), err))));
  }

  private Future<BackupOutcome> upload(Path file, BackupOutcome local) {
    GatewayConfig.S3 s3 = config.backup().s3();
    if (!s3.enabled()) {
      return Future.succeededFuture(local);
    }
    return worker.executeBlocking(() -> {
      try (S3Uploader uploader = new S3Uploader(s3, Duration.ofMillis(config.backup().timeoutMs()))) {
        String key = uploader.key(file.getFileName().toString());
        try {
          uploader.upload(file, local.sha256());
        } catch (IOException | RuntimeException e) {
          throw new BackupException("the backup " + file.getFileName() + " was written, but its upload to s3://"
              + s3.bucket() + "/" + key + " failed: " + describe(e), e, local);
        }
        return new BackupOutcome(null, local.startedAt(), local.finishedAt(), local.triggeredBy(), local.attempt(),
            true, local.fileName(), local.sizeBytes(), local.sha256(), key, null);
      }
    }, false);
  }

  /**
   * H2 writes the script itself, in one statement (one consistent snapshot of every table), gzip-compressed. The
   * path is ours (the backup directory and a generated name) but is quoted as any SQL string literal would be.
   */
  private Future<Void> h2Script(Path part, long timeoutMs) {
    String literal = "'" + part.toString().replace("'", "''") + "'";
    return db.pool().query("SCRIPT TO " + literal + " COMPRESSION GZIP CHARSET 'UTF-8'").execute()
        .timeout(timeoutMs, java.util.concurrent.TimeUnit.MILLISECONDS).mapEmpty();
  }

  private BackupOutcome finished(BackupOutcome o, Throwable err) {
    Instant end = clock.instant();
    if (err instanceof BackupException b && b.written != null) {
      BackupOutcome w = b.written;
      return new BackupOutcome(null, w.startedAt(), end, w.triggeredBy(), w.attempt(), false, w.fileName(),
          w.sizeBytes(), w.sha256(), null, b.getMessage());
    }
    return new BackupOutcome(null, o.startedAt(), end, o.triggeredBy(), o.attempt(), o.succeeded(), o.fileName(),
        o.sizeBytes(), o.sha256(), o.s3Key(), err == null ? null : describe(err));
  }

  /** Stops a dump or restore program running now (the gateway is stopping). */
  public void cancel() {
    if (mariadb != null) {
      mariadb.cancel();
    }
  }

  static String describe(Throwable e) {
    if (e instanceof BackupException) {
      return e.getMessage();
    }
    String m = e.getMessage();
    return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
  }

  /** A failure after the file was written (the upload): the outcome keeps what was written. */
  static final class BackupException extends IOException {
    final transient BackupOutcome written;

    BackupException(String message, Throwable cause, BackupOutcome written) {
      super(message, cause);
      this.written = written;
    }
  }
}
