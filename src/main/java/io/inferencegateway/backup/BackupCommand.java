package io.inferencegateway.backup;

import io.inferencegateway.config.ConfigLoader;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.store.BackupStore;
import io.inferencegateway.store.Database;
import io.inferencegateway.store.Migrations;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code backup} (take one now, as the scheduled job would) and {@code restore FILE [--force]}, with the settings
 * {@code run} uses ({@code --config FILE}, then the environment).
 */
public final class BackupCommand {

  static final String BACKUP_USAGE = """
      Usage: java -jar inference-gateway.jar backup [--config FILE]

      Takes a backup now, with the settings 'run' uses (DATABASE_URL or the embedded database under DATA_DIR, and
      the backup section of the configuration): a consistent dump (MariaDB: mysqldump --single-transaction; embedded:
      H2's SCRIPT), gzip-compressed into backup.dir (default DATA_DIR/backups) as
      inference-gateway-<mariadb|h2>-<UTC time>.sql.gz, keeping the newest backup.keep files, and uploaded to S3 when
      backup.s3.bucket is set. The outcome is recorded in the database (GET /api/v1/backups).
      With the embedded database, stop the gateway first (it holds the database file); the running gateway takes
      its own scheduled backups (backup.schedule).
      Exit status: 0 written (and uploaded), 1 failed.
      """;

  static final String RESTORE_USAGE = """
      Usage: java -jar inference-gateway.jar restore [--config FILE] [--force] FILE

      Loads FILE (a .sql.gz written by 'backup' or the scheduled job) into the configured database, which must be of
      the same kind (MariaDB/MySQL, or the embedded H2 database). Stop the gateway first.
      A database that already holds tables is refused unless --force is given: then its tables are dropped and
      replaced with the backup's.
      Exit status: 0 restored, 1 failed, 2 refused or bad arguments.
      """;

  private BackupCommand() {}

  public static int backup(String[] args) {
    return backup(args, System.getenv(), System.out, System.err);
  }

  public static int restore(String[] args) {
    return restore(args, System.getenv(), System.out, System.err);
  }

  static int backup(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
    Path configFile = null;
    for (int i = 0; i < args.length; i++) {
      if (isHelp(args[i])) {
        out.print(BACKUP_USAGE);
        return 0;
      } else if (args[i].equals("--config") && i + 1 < args.length) {
        configFile = Path.of(args[++i]);
      } else {
        err.println("backup: unknown option '" + args[i] + "'\n");
        err.print(BACKUP_USAGE);
        return 2;
      }
    }
    GatewayConfig config = ConfigLoader.load(configFile, env);
    Vertx vertx = Vertx.vertx();
    Database db = null;
    try {
      Files.createDirectories(Path.of(config.database().dataDir()));
      db = Database.create(vertx, config.database());
      Migrations.run(vertx, db).await();
      WorkerExecutor worker = vertx.createSharedWorkerExecutor("gateway-backup", 1, config.backup().timeoutMs() + 60_000,
          TimeUnit.MILLISECONDS);
      Clock clock = Clock.systemUTC();
      BackupOutcome outcome = new BackupService(db, config, worker, clock)
          .take(BackupOutcome.COMMAND, clock.instant(), 1).await();
      try {
        new BackupStore(db).insert(outcome).await();
      } catch (Exception e) {
        err.println("warning: the outcome could not be recorded in the database: " + message(e));
      }
      Path dir = config.backup().directory(config.database().dataDir());
      if (!outcome.succeeded()) {
        err.println("Backup failed: " + outcome.error());
        return 1;
      }
      out.println("Backup written: " + dir.resolve(outcome.fileName()) + " (" + outcome.sizeBytes() + " bytes, sha256 "
          + outcome.sha256() + ", " + outcome.durationMs() + " ms)");
      if (outcome.s3Key() != null) {
        out.println("Uploaded to s3://" + config.backup().s3().bucket() + "/" + outcome.s3Key());
      }
      return 0;
    } catch (Exception e) {
      err.println("Backup failed: " + message(e) + inUseHint(config, e));
      return 1;
    } finally {
      close(vertx, db);
    }
  }

  static int restore(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
    Path configFile = null;
    boolean force = false;
    List<String> files = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (isHelp(a)) {
        out.print(RESTORE_USAGE);
        return 0;
      } else if (a.equals("--config") && i + 1 < args.length) {
        configFile = Path.of(args[++i]);
      } else if (a.equals("--force")) {
        force = true;
      } else if (a.startsWith("-")) {
        err.println("restore: unknown option '" + a + "'\n");
        err.print(RESTORE_USAGE);
        return 2;
      } else {
        files.add(a);
      }
    }
    if (files.size() != 1) {
      err.println("restore: name exactly one backup file\n");
      err.print(RESTORE_USAGE);
      return 2;
    }
    GatewayConfig config = ConfigLoader.load(configFile, env);
    Path file = Path.of(files.get(0)).toAbsolutePath();
    Vertx vertx = Vertx.vertx();
    Database db = null;
    try {
      Files.createDirectories(Path.of(config.database().dataDir()));
      db = Database.create(vertx, config.database());
      Restore.Result r = Restore.run(vertx, db, config, file, force).await();
      out.println("Restored " + file + " into " + db.description() + ": " + r.tables() + " tables, " + r.usageRows()
          + " usage rows");
      return 0;
    } catch (Restore.Refused e) {
      err.println("restore: " + e.getMessage());
      return 2;
    } catch (Exception e) {
      err.println("Restore failed: " + message(e) + inUseHint(config, e));
      return 1;
    } finally {
      close(vertx, db);
    }
  }

  private static void close(Vertx vertx, Database db) {
    try {
      if (db != null) {
        db.close().await();
      }
    } catch (Exception ignored) {
      // closing after a failure; the failure was reported
    }
    vertx.close().await();
  }

  private static String message(Throwable e) {
    Throwable t = e;
    while (t.getMessage() == null && t.getCause() != null) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.toString() : t.getMessage();
  }

  /** H2 refuses a second process on its file: the running gateway's. */
  private static String inUseHint(GatewayConfig config, Exception e) {
    return config.database().url() == null && message(e).contains("already in use")
        ? "\nThe embedded database is open in a running gateway: stop it first (it takes its own scheduled backups)." : "";
  }

  private static boolean isHelp(String a) {
    return a.equals("--help") || a.equals("-h") || a.equals("help");
  }
}
