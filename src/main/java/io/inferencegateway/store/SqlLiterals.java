package io.inferencegateway.store;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * SQL literals for MariaDB/MySQL statements sent as text, built so that no value can change the statement: strings
 * are written as hex literals ({@code _utf8mb4 X'..'}), which contain only hex digits whatever the string and whatever
 * the server's sql_mode (no quote or backslash escaping to get wrong); numbers are formatted by Java; times are digits
 * and separators only.
 *
 * <p>Used for the usage rows only: MariaDB spends about a fifth less CPU per row on a multi-row INSERT sent as text
 * than on the same INSERT as a prepared statement with 17 parameters per row (it converts every bound parameter), and
 * the client skips the binary parameter encoding.
 */
final class SqlLiterals {

  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private SqlLiterals() {}

  static StringBuilder string(StringBuilder sql, String value) {
    if (value == null) {
      return sql.append("NULL");
    }
    byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
    sql.append("_utf8mb4 X'");
    for (byte b : bytes) {
      sql.append(HEX[(b >> 4) & 0xF]).append(HEX[b & 0xF]);
    }
    return sql.append('\'');
  }

  static StringBuilder number(StringBuilder sql, Long value) {
    return value == null ? sql.append("NULL") : sql.append(value.longValue());
  }

  /** A finite double as Java prints it ({@code 1.0E-4} is valid SQL); a non-finite one has no SQL form, so NULL. */
  static StringBuilder number(StringBuilder sql, double value) {
    return Double.isFinite(value) ? sql.append(value) : sql.append("NULL");
  }

  static StringBuilder bool(StringBuilder sql, boolean value) {
    return sql.append(value ? "TRUE" : "FALSE");
  }

  private static final DateTimeFormatter DATETIME =
      DateTimeFormatter.ofPattern("''uuuu-MM-dd HH:mm:ss.SSS''").withZone(ZoneOffset.UTC);

  /** A UTC DATETIME(3) literal, the same value {@link SqlValues#toDb} binds: {@code '2026-11-27 20:15:00.123'}. */
  static StringBuilder datetime(StringBuilder sql, long epochMillis) {
    DATETIME.formatTo(Instant.ofEpochMilli(epochMillis), sql);
    return sql;
  }
}
