package io.inferencegateway.metrics;

import io.inferencegateway.config.GatewayConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The journal's files: append, read back in batches, checkpoint, segments, torn lines, the lock and the size limit. */
class UsageJournalTest {

  static final GatewayConfig.Journal SMALL = new GatewayConfig.Journal("always", 50, 1000, 1L << 30, 1 << 16);

  @TempDir
  Path dataDir;

  static UsageRecord record(int i) {
    return new UsageRecord("req-" + i, 7L, "m", 1L, "chat/completions", false, 1_700_000_000_000L + i, 1_000_000,
        500_000, 10, 20, 30, 200, null, null, null);
  }

  static List<UsageRecord> records(int from, int n) {
    List<UsageRecord> out = new ArrayList<>();
    for (int i = from; i < from + n; i++) {
      out.add(record(i));
    }
    return out;
  }

  static List<UsageRecord> readAll(UsageJournal j, UsageJournal.Position from, int batch) throws IOException {
    List<UsageRecord> out = new ArrayList<>();
    UsageJournal.Position pos = from;
    UsageJournal.Position end = j.end();
    while (pos.before(end)) {
      UsageJournal.Batch b = j.read(pos, end, batch);
      assertThat(b.end()).as("progress").isGreaterThan(pos);
      out.addAll(b.records());
      pos = b.end();
    }
    return out;
  }

  @Test
  void recordsComeBackInOrderAcrossSegmentsAndACheckpointDeletesWhatIsStored() throws IOException {
    UsageJournal.Position mid;
    try (UsageJournal j = UsageJournal.open(dataDir, SMALL)) {
      UsageJournal.Position start = j.checkpoint();
      for (int i = 0; i < 100; i++) {
        j.append(records(i * 10, 10));
      }
      assertThat(segments(j.directory())).as("64 KiB segments").hasSizeGreaterThan(2);
      assertThat(readAll(j, start, 37)).isEqualTo(records(0, 1000));
      mid = j.read(start, j.end(), 500).end();
      j.checkpoint(mid);
      assertThat(segments(j.directory()).get(0)).as("segments wholly stored are gone")
          .isNotEqualTo("segment-0000000000000001.jsonl");
    }
    try (UsageJournal j = UsageJournal.open(dataDir, SMALL)) {
      assertThat(j.checkpoint()).isEqualTo(mid);
      assertThat(readAll(j, j.checkpoint(), 100)).as("a restart resumes at the checkpoint").isEqualTo(records(500, 500));
    }
  }

  @Test
  void aTornLastLineIsSkippedAndTheRecordAfterItKept() throws IOException {
    Path dir;
    try (UsageJournal j = UsageJournal.open(dataDir, SMALL)) {
      j.append(records(0, 3));
      dir = j.directory();
    }
    Path last = segmentFiles(dir).get(segmentFiles(dir).size() - 1);
    Files.writeString(last, "{\"request_id\":\"torn", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    try (UsageJournal j = UsageJournal.open(dataDir, SMALL)) {
      j.append(records(3, 1)); // a crash happened mid-write; the next start appends after it
      assertThat(readAll(j, j.checkpoint(), 2)).isEqualTo(records(0, 4));
      assertThat(j.skippedLines()).isEqualTo(1);
    }
  }

  @Test
  void aSecondGatewayOnTheSameDataDirectoryGetsItsOwnJournal() throws IOException {
    try (UsageJournal first = UsageJournal.open(dataDir, SMALL);
         UsageJournal second = UsageJournal.open(dataDir, SMALL)) {
      assertThat(first.directory()).isEqualTo(dataDir.resolve("usage-journal"));
      assertThat(second.directory()).isEqualTo(dataDir.resolve("usage-journal-2"));
    }
    try (UsageJournal again = UsageJournal.open(dataDir, SMALL)) {
      assertThat(again.directory()).as("free again once closed").isEqualTo(dataDir.resolve("usage-journal"));
    }
  }

  @Test
  void beyondTheSizeLimitNothingIsWritten() throws IOException {
    GatewayConfig.Journal tiny = new GatewayConfig.Journal("none", 50, 1000, 1 << 16, 1 << 16);
    try (UsageJournal j = UsageJournal.open(dataDir, tiny)) {
      int accepted = 0;
      while (j.append(records(accepted, 10)) != null) {
        accepted += 10;
      }
      assertThat(j.pendingBytes()).isLessThanOrEqualTo(1 << 16);
      assertThat(readAll(j, j.checkpoint(), 1000)).isEqualTo(records(0, accepted));
      j.checkpoint(j.end());
      assertThat(j.append(records(accepted, 10))).as("room again once stored").isNotNull();
    }
  }

  @Test
  void recordsOfTheOldSpoolAreAdopted() throws IOException {
    Path spool = Files.createDirectories(dataDir.resolve("usage-spool"));
    StringBuilder lines = new StringBuilder();
    for (UsageRecord r : records(0, 5)) {
      lines.append(r.toJson().encode()).append('\n');
    }
    Files.writeString(spool.resolve("current.jsonl"), lines);
    try (UsageJournal j = UsageJournal.open(dataDir, SMALL)) {
      assertThat(readAll(j, j.checkpoint(), 10)).isEqualTo(records(0, 5));
    }
    assertThat(spool.resolve("current.jsonl")).doesNotExist();
  }

  private static List<Path> segmentFiles(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().startsWith("segment-")).sorted().toList();
    }
  }

  private static List<String> segments(Path dir) throws IOException {
    return segmentFiles(dir).stream().map(p -> p.getFileName().toString()).toList();
  }

  @Test
  void theJournalOfAGatewayThatIsGoneIsTakenOverAtTheNextStart() throws IOException {
    try (UsageJournal first = UsageJournal.open(dataDir, SMALL)) {
      first.append(records(0, 3));
      first.checkpoint(first.end()); // all stored: its checkpoint is past every segment it has
      try (UsageJournal second = UsageJournal.open(dataDir, SMALL)) {
        second.append(records(100, 4));
        second.checkpoint(second.read(second.checkpoint(), second.end(), 1).end()); // one of four stored
      }
    }
    // both stopped; a single gateway starts again and takes usage-journal, and with it what usage-journal-2 kept
    try (UsageJournal again = UsageJournal.open(dataDir, SMALL)) {
      assertThat(again.directory()).isEqualTo(dataDir.resolve("usage-journal"));
      assertThat(readAll(again, again.checkpoint(), 10)).as("the partly stored segment is replayed whole")
          .isEqualTo(records(100, 4));
    }
    assertThat(segmentFiles(dataDir.resolve("usage-journal-2"))).isEmpty();
  }

  @Test
  void linesAreWhatJsonObjectWritesAndFieldsWithQuotesUnicodeAndControlsRoundTrip() throws IOException {
    UsageRecord odd = new UsageRecord("req-\"q\"\\", null, "мод/ель", null, "completions", true, -5L, Long.MAX_VALUE,
        -1, 0, Integer.MAX_VALUE, Integer.MIN_VALUE, 499, "line\nbreak\ttab\r\b\f\u0001\u001f\u007f end",
        "日本語 😀 café </script>", "{\"usage\": 1}", 3, "4,5");
    List<UsageRecord> all = List.of(odd, record(1),
        new UsageRecord("r", 1L, "m", 2L, "chat/completions", false, 0, 0, 0, 0, 0, 0, 200, null, "", "a\u2028b", 0,
            null),
        new UsageRecord("lone \ud800 \udc00 surrogates", 1L, "m", 2L, "x", false, 0, 0, 0, 0, 0, 0, 200, null, null,
            "\ud83d", 0, null));
    for (UsageRecord r : all) {
      JsonBytes out = new JsonBytes(16);
      r.writeJson(out);
      assertThat(new String(out.toByteArray(), StandardCharsets.UTF_8))
          .as("the same bytes as JsonObject.toBuffer()").isEqualTo(r.toJson().toBuffer().toString());
    }
    try (UsageJournal j = UsageJournal.open(dataDir, SMALL)) {
      UsageJournal.Position start = j.checkpoint();
      j.append(all);
      assertThat(readAll(j, start, 10)).isEqualTo(all);
    }
  }

  @Test
  void theCheckpointFileLagsAtMostASecondAndIsWrittenAtClose() throws IOException {
    Path file;
    UsageJournal.Position last;
    try (UsageJournal j = UsageJournal.open(dataDir, SMALL)) {
      file = j.directory().resolve(UsageJournal.CHECKPOINT);
      UsageJournal.Position start = j.checkpoint();
      j.append(records(0, 3));
      UsageJournal.Position first = j.read(start, j.end(), 1).end();
      j.checkpoint(first);
      assertThat(Files.readString(file).trim()).as("the first one is written at once")
          .isEqualTo(first.segment() + " " + first.offset());
      last = j.end();
      j.checkpoint(last);
      assertThat(j.checkpoint()).isEqualTo(last);
      assertThat(Files.readString(file).trim()).as("not again within a second")
          .isEqualTo(first.segment() + " " + first.offset());
    }
    assertThat(Files.readString(file).trim()).as("close writes the last one").isEqualTo(last.segment() + " " + last.offset());
    try (UsageJournal j = UsageJournal.open(dataDir, SMALL)) {
      assertThat(readAll(j, j.checkpoint(), 10)).isEmpty();
    }
  }
}
