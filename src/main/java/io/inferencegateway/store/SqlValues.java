package io.inferencegateway.store;

import io.vertx.sqlclient.Row;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;

/** Conversions that hide driver differences: times are stored as UTC DATETIME(3), read back as {@link Instant}. */
public final class SqlValues {

  private SqlValues() {}

  public static LocalDateTime toDb(Instant instant) {
    return instant == null ? null : LocalDateTime.ofInstant(instant.truncatedTo(ChronoUnit.MILLIS), ZoneOffset.UTC);
  }

  public static Instant instant(Row row, String column) {
    Object v = row.getValue(column);
    if (v == null) {
      return null;
    }
    if (v instanceof LocalDateTime ldt) {
      return ldt.toInstant(ZoneOffset.UTC);
    }
    if (v instanceof OffsetDateTime odt) {
      return odt.toInstant();
    }
    if (v instanceof java.sql.Timestamp ts) {
      return ts.toLocalDateTime().toInstant(ZoneOffset.UTC);
    }
    if (v instanceof Instant i) {
      return i;
    }
    throw new IllegalStateException("column " + column + " is not a time: " + v.getClass());
  }

  /** Booleans come back as Boolean from H2 and as a number from MySQL's TINYINT(1). */
  public static boolean bool(Row row, String column) {
    Object v = row.getValue(column);
    if (v instanceof Boolean b) {
      return b;
    }
    if (v instanceof Number n) {
      return n.intValue() != 0;
    }
    return false;
  }

  public static Boolean nullableBool(Row row, String column) {
    return row.getValue(column) == null ? null : bool(row, column);
  }

  public static Long nullableLong(Row row, String column) {
    Object v = row.getValue(column);
    return v == null ? null : ((Number) v).longValue();
  }

  public static Long nullableLong(Row row, int column) {
    Object v = row.getValue(column);
    return v == null ? null : ((Number) v).longValue();
  }

  public static Integer nullableInt(Row row, String column) {
    Object v = row.getValue(column);
    return v == null ? null : ((Number) v).intValue();
  }

  /** Any column value in a JSON-friendly form (times as ISO-8601 UTC strings). */
  public static Object jsonValue(Object v) {
    if (v instanceof LocalDateTime ldt) {
      return ldt.toInstant(ZoneOffset.UTC).toString();
    }
    if (v instanceof OffsetDateTime odt) {
      return odt.toInstant().toString();
    }
    if (v instanceof java.sql.Timestamp ts) {
      return ts.toLocalDateTime().toInstant(ZoneOffset.UTC).toString();
    }
    if (v instanceof java.math.BigDecimal bd) {
      return bd.doubleValue();
    }
    if (v instanceof java.math.BigInteger bi) {
      return bi.longValue();
    }
    return v;
  }
}
