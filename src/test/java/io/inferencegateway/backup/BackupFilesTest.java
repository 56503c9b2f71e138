package io.inferencegateway.backup;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class BackupFilesTest {

  @Test
  void namesCarryTheEngineAndUtcTime() {
    assertThat(BackupFiles.name("mariadb", Instant.parse("2026-12-02T03:00:00Z")))
        .isEqualTo("inference-gateway-mariadb-20261202T030000Z.sql.gz");
    assertThat(BackupFiles.name("h2", Instant.parse("2027-01-09T23:05:07.999Z")))
        .isEqualTo("inference-gateway-h2-20270109T230507Z.sql.gz");
  }

  @Test
  void pruneKeepsTheNewestAndTouchesNothingElse(@TempDir Path dir) throws IOException {
    Instant t = Instant.parse("2026-12-01T03:00:00Z");
    for (int day = 0; day < 5; day++) {
      Files.writeString(dir.resolve(BackupFiles.name(day % 2 == 0 ? "mariadb" : "h2", t.plusSeconds(day * 86_400L))), "x");
    }
    Files.writeString(dir.resolve("notes.txt"), "mine");
    Files.writeString(dir.resolve("inference-gateway-mariadb-20200101T000000Z.sql.gz.part"), "half");
    assertThat(BackupFiles.prune(dir, 2)).hasSize(3);
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder(
          "inference-gateway-mariadb-20200101T000000Z.sql.gz.part",
          "inference-gateway-mariadb-20261205T030000Z.sql.gz",
          "inference-gateway-h2-20261204T030000Z.sql.gz",
          "notes.txt");
    }
  }

  @Test
  void unfinishedBackupsOfACrashedRunAreDeletedOnceTheyAreOld(@TempDir Path dir) throws IOException {
    String name = BackupFiles.name("mariadb", Instant.parse("2026-12-01T03:00:00Z"));
    Path stale = Files.writeString(dir.resolve(BackupFiles.partName(name)), "crashed");
    Path running = Files.writeString(dir.resolve(BackupFiles.partName(name)), "being written");
    Path other = Files.writeString(dir.resolve("something.part"), "not ours");
    Files.setLastModifiedTime(stale, java.nio.file.attribute.FileTime.from(Instant.now().minusSeconds(7200)));
    Files.setLastModifiedTime(other, java.nio.file.attribute.FileTime.from(Instant.now().minusSeconds(7200)));
    assertThat(stale).isNotEqualTo(running);
    BackupFiles.deleteStaleParts(dir, java.time.Duration.ofHours(1));
    assertThat(stale).doesNotExist();
    assertThat(running).exists();
    assertThat(other).exists();
  }
}
