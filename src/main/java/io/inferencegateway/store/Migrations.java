package io.inferencegateway.store;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Versioned schema migrations, applied in order at start-up over the same async pool as everything else.
 * Each file under {@code db/migration} is applied once and recorded in {@code schema_migrations} with its checksum;
 * on MariaDB a named lock keeps two gateways starting together from applying the same file twice.
 * (A few dozen lines instead of Flyway: Flyway would need a second, blocking JDBC driver just for MariaDB.)
 */
public final class Migrations {

  private static final Logger log = LoggerFactory.getLogger(Migrations.class);

  /** Append new files here; never edit one that has shipped. */
  static final List<String> FILES = List.of(
      "V1__toolkit_tables.sql",
      "V2__backups_and_usage_rollups.sql",
      "V3__key_admission_settings.sql",
      "V4__replica_keys_and_sessions.sql",
      "V5__stream_resumes.sql");

  private Migrations() {}

  public record Migration(int version, String name, String sql, String checksum) {}

  public static Future<Integer> run(Vertx vertx, Database db) {
    return vertx.executeBlocking(Migrations::load)
        .compose(migrations -> db.pool().withConnection(conn -> lock(conn, db.dialect())
            .compose(v -> apply(conn, db.dialect(), migrations))
            .eventually(() -> unlock(conn, db.dialect()))));
  }

  static List<Migration> load() throws IOException {
    List<Migration> out = new ArrayList<>();
    for (String file : FILES) {
      try (InputStream in = Migrations.class.getResourceAsStream("/db/migration/" + file)) {
        if (in == null) {
          throw new IOException("missing migration " + file);
        }
        String sql = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        int version = Integer.parseInt(file.substring(1, file.indexOf("__")));
        out.add(new Migration(version, file, sql, sha256(sql)));
      }
    }
    return out;
  }

  private static Future<Integer> apply(SqlConnection conn, Dialect dialect, List<Migration> migrations) {
    return conn.query("CREATE TABLE IF NOT EXISTS schema_migrations (version INT PRIMARY KEY, name VARCHAR(255) NOT NULL,"
            + " checksum CHAR(64) NOT NULL, applied_at DATETIME(3) NOT NULL)").execute()
        .compose(v -> conn.query("SELECT version, checksum FROM schema_migrations").execute())
        .compose(rows -> {
          Map<Integer, String> applied = new java.util.HashMap<>();
          for (Row r : rows) {
            applied.put(r.getInteger("version"), r.getString("checksum"));
          }
          Future<Integer> chain = Future.succeededFuture(0);
          for (Migration m : migrations) {
            String known = applied.get(m.version());
            if (known != null) {
              if (!known.equals(m.checksum())) {
                log.warn("Migration {} changed after it was applied (checksum differs); it is not re-run", m.name());
              }
              continue;
            }
            chain = chain.compose(count -> applyOne(conn, m).map(count + 1));
          }
          return chain;
        })
        .onSuccess(count -> {
          if (count > 0) {
            log.info("Applied {} schema migration(s)", count);
          }
        });
  }

  private static Future<Void> applyOne(SqlConnection conn, Migration m) {
    Future<Void> chain = Future.succeededFuture();
    for (String statement : statements(m.sql())) {
      chain = chain.compose(v -> conn.query(statement).execute()
          .recover(err -> Future.failedFuture(new IllegalStateException(
              "Migration " + m.name() + " failed at: " + firstLine(statement) + " -> " + err.getMessage(), err)))
          .mapEmpty());
    }
    return chain.compose(v -> conn.preparedQuery(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)")
        .execute(Tuple.of(m.version(), m.name(), m.checksum(), java.time.LocalDateTime.now(java.time.ZoneOffset.UTC)))
        .mapEmpty());
  }

  /** Splits a migration into statements: ';' at the end of a line ends one; '--' lines are comments. */
  static List<String> statements(String sql) {
    List<String> out = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : sql.split("\n")) {
      String trimmed = line.strip();
      if (trimmed.startsWith("--") || trimmed.isEmpty()) {
        continue;
      }
      current.append(line).append('\n');
      if (trimmed.endsWith(";")) {
        String stmt = current.toString().strip();
        out.add(stmt.substring(0, stmt.length() - 1));
        current.setLength(0);
      }
    }
    if (!current.toString().isBlank()) {
      out.add(current.toString().strip());
    }
    return out;
  }

  private static Future<Void> lock(SqlConnection conn, Dialect dialect) {
    if (dialect != Dialect.MYSQL) {
      return Future.succeededFuture();
    }
    return conn.query("SELECT GET_LOCK('inference_gateway_migrations', 60)").execute()
        .compose(rows -> {
          Integer got = rows.iterator().next().getInteger(0);
          return got != null && got == 1 ? Future.<Void>succeededFuture()
              : Future.failedFuture(new IllegalStateException("Timed out waiting for the migration lock"));
        });
  }

  private static Future<Void> unlock(SqlConnection conn, Dialect dialect) {
    if (dialect != Dialect.MYSQL) {
      return Future.succeededFuture();
    }
    return conn.query("SELECT RELEASE_LOCK('inference_gateway_migrations')").execute().<Void>mapEmpty()
        .recover(err -> Future.succeededFuture());
  }

  private static String firstLine(String statement) {
    return statement.lines().findFirst().orElse(statement);
  }

  static String sha256(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
