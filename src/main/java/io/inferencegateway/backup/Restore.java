package io.inferencegateway.backup;

import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.store.Database;
import io.inferencegateway.store.DatabaseUrl;
import io.inferencegateway.store.Dialect;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Row;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * Loads a backup file into the configured database: a MariaDB dump through the MariaDB client program, an H2 script
 * with H2's {@code RUNSCRIPT}. A database that already holds tables is refused unless {@code force}, which drops them
 * first (the restored database is then exactly the backup). Meant for a stopped gateway: the gateway applies any
 * newer schema migrations when it starts on the restored database.
 */
public final class Restore {

  /** A refusal the operator can act on (exit status 2, no stack trace). */
  public static final class Refused extends RuntimeException {
    Refused(String message) {
      super(message);
    }
  }

  /** What was restored. */
  public record Result(String engine, int tables, long usageRows) {}

  private Restore() {}

  public static Future<Result> run(Vertx vertx, Database db, GatewayConfig config, Path file, boolean force) {
    return vertx.executeBlocking(() -> engineOf(file)).compose(engine -> {
      String wanted = db.dialect() == Dialect.MYSQL ? "mariadb" : "h2";
      if (!engine.equals(wanted)) {
        return Future.failedFuture(new Refused(file + " is a backup of " + label(engine) + "; the configured database is "
            + label(wanted) + " (" + db.description() + "): a backup restores into the same kind of database only"));
      }
      return tables(db).compose(existing -> {
        if (!existing.isEmpty() && !force) {
          return Future.failedFuture(new Refused("the database (" + db.description() + ") is not empty: it holds "
              + existing.size() + " table(s) (" + String.join(", ", existing.subList(0, Math.min(6, existing.size())))
              + (existing.size() > 6 ? ", ..." : "") + "). Restore into an empty database, or add --force to"
              + " drop these tables and replace them with the backup"));
        }
        return existing.isEmpty() ? Future.succeededFuture() : dropAll(db, existing);
      }).compose(v -> load(vertx, db, config, file))
          .compose(v -> tables(db))
          .compose(t -> usageRows(db, t).map(rows -> new Result(engine, t.size(), rows)));
    });
  }

  private static String label(String engine) {
    return engine.equals("h2") ? "the embedded H2 database" : "MariaDB/MySQL";
  }

  /** Which engine wrote the file, from the start of its SQL (it must be gzip-compressed SQL). */
  static String engineOf(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new Refused("no such file: " + file);
    }
    byte[] head = new byte[8192];
    int n;
    try (InputStream in = new GZIPInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
      n = in.readNBytes(head, 0, head.length);
    } catch (java.util.zip.ZipException e) {
      throw new Refused(file + " is not a gzip file (" + e.getMessage() + "): backups are .sql.gz files");
    }
    String text = new String(head, 0, n, StandardCharsets.UTF_8);
    if (text.contains("-- MariaDB dump") || text.contains("-- MySQL dump")) {
      return "mariadb";
    }
    if (text.contains("CREATE USER IF NOT EXISTS") || text.contains("CREATE CACHED TABLE")
        || text.contains("CREATE MEMORY TABLE")) {
      return "h2";
    }
    throw new Refused(file + " does not look like a backup of this gateway (neither a MariaDB dump nor an H2 script)");
  }

  /** The tables of the configured database (schema), whatever their content. */
  static Future<List<String>> tables(Database db) {
    String sql = db.dialect() == Dialect.MYSQL
        ? "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name"
        : "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = CURRENT_SCHEMA"
            + " AND table_type = 'BASE TABLE' ORDER BY table_name";
    return db.pool().query(sql).execute().map(rows -> {
      List<String> out = new ArrayList<>();
      for (Row r : rows) {
        out.add(r.getString("t"));
      }
      return out;
    });
  }

  private static Future<Void> dropAll(Database db, List<String> tables) {
    if (db.dialect() == Dialect.H2) {
      return db.pool().query("DROP ALL OBJECTS").execute().mapEmpty();
    }
    StringBuilder list = new StringBuilder();
    for (String t : tables) {
      list.append(list.isEmpty() ? "" : ", ").append('`').append(t.replace("`", "``")).append('`');
    }
    // one connection: the foreign-key switch is per session
    return db.pool().withConnection(conn -> conn.query("SET FOREIGN_KEY_CHECKS = 0").execute()
        .compose(v -> conn.query("DROP TABLE IF EXISTS " + list).execute())
        .eventually(() -> conn.query("SET FOREIGN_KEY_CHECKS = 1").execute())
        .mapEmpty());
  }

  private static Future<Void> load(Vertx vertx, Database db, GatewayConfig config, Path file) {
    if (db.dialect() == Dialect.H2) {
      String literal = "'" + file.toAbsolutePath().toString().replace("'", "''") + "'";
      return db.pool().query("RUNSCRIPT FROM " + literal + " COMPRESSION GZIP CHARSET 'UTF-8'").execute().mapEmpty();
    }
    MariaDbClient client = new MariaDbClient(DatabaseUrl.parse(config.database().url()),
        config.backup().dumpCommand(), config.backup().clientCommand());
    return vertx.executeBlocking(() -> {
      try (InputStream sql = new GZIPInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16), 1 << 16)) {
        client.restore(sql, config.backup().timeoutMs());
      }
      return null;
    }, false);
  }

  private static Future<Long> usageRows(Database db, List<String> tables) {
    if (!tables.contains("metrics")) {
      return Future.succeededFuture(0L);
    }
    return db.pool().query("SELECT COUNT(*) FROM metrics").execute().map(rows -> rows.iterator().next().getLong(0));
  }
}
