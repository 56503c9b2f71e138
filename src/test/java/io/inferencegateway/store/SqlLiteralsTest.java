package io.inferencegateway.store;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

/** The text literals of the usage rows. */
class SqlLiteralsTest {

  private static final DateTimeFormatter REFERENCE =
      DateTimeFormatter.ofPattern("''uuuu-MM-dd HH:mm:ss.SSS''").withZone(ZoneOffset.UTC);

  @Test
  void timesAreWhatTheFormatterWrites() {
    long[] samples = {0, 1, 999, 1000, -1, -1001, 951_782_400_000L /* 2000-02-29 */, 1_764_800_000_123L,
        253_402_300_799_999L /* 9999-12-31 23:59:59.999 */, -62_167_219_200_000L /* year 0 */};
    for (long ms : samples) {
      assertThat(SqlLiterals.datetime(new StringBuilder(), ms).toString()).as("%d", ms)
          .isEqualTo(REFERENCE.format(Instant.ofEpochMilli(ms)));
    }
    java.util.Random r = new java.util.Random(7);
    for (int i = 0; i < 10_000; i++) {
      long ms = r.nextLong() % 253_402_300_799_999L;
      assertThat(SqlLiterals.datetime(new StringBuilder(), ms).toString())
          .isEqualTo(REFERENCE.format(Instant.ofEpochMilli(ms)));
    }
    assertThat(SqlLiterals.datetime(new StringBuilder(), 253_402_300_800_000L).toString())
        .as("past year 9999: the formatter").isEqualTo(REFERENCE.format(Instant.ofEpochMilli(253_402_300_800_000L)));
  }

  @Test
  void stringsAreHexLiteralsOfTheirUtf8() {
    for (String s : new String[] {"", "a'b\\c", "日本 😀", "\u0000"}) {
      assertThat(SqlLiterals.string(new StringBuilder("x="), s).toString())
          .isEqualTo("x=_utf8mb4 X'" + HexFormat.of().withUpperCase().formatHex(s.getBytes(StandardCharsets.UTF_8))
              + "'");
    }
    assertThat(SqlLiterals.string(new StringBuilder(), null).toString()).isEqualTo("NULL");
  }
}
