package io.inferencegateway.backup;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Backup file names and the local retention count. Names are
 * {@code inference-gateway-<mariadb|h2>-<yyyyMMdd'T'HHmmss'Z'>.sql.gz} (UTC), so they sort by time and say which
 * engine they restore into. Only files of that pattern are ever deleted.
 */
public final class BackupFiles {

  static final String PREFIX = "inference-gateway-";
  static final String SUFFIX = ".sql.gz";
  static final Pattern NAME = Pattern.compile(Pattern.quote(PREFIX) + "(mariadb|h2)-\\d{8}T\\d{6}Z" + Pattern.quote(SUFFIX));
  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

  private BackupFiles() {}

  /** @param engine {@code mariadb} or {@code h2} */
  public static String name(String engine, Instant time) {
    return PREFIX + engine + "-" + STAMP.format(time) + SUFFIX;
  }

  static final Pattern PART = Pattern.compile(NAME.pattern() + "\\.[0-9a-f]{8}\\.part");

  /** The temporary name a backup is written under until it is complete. */
  static String partName(String name) {
    return name + "." + java.util.UUID.randomUUID().toString().substring(0, 8) + ".part";
  }

  /** Deletes unfinished backups (of a run that crashed) older than {@code age}. */
  static void deleteStaleParts(Path dir, java.time.Duration age) throws IOException {
    java.time.Instant limit = java.time.Instant.now().minus(age);
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path f : files) {
        if (PART.matcher(f.getFileName().toString()).matches()
            && Files.getLastModifiedTime(f).toInstant().isBefore(limit)) {
          Files.deleteIfExists(f);
        }
      }
    }
  }

  /** Backup files in {@code dir}, newest first (by the time in the name). */
  public static List<Path> list(Path dir) throws IOException {
    List<Path> out = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path f : files) {
        if (NAME.matcher(f.getFileName().toString()).matches() && Files.isRegularFile(f)) {
          out.add(f);
        }
      }
    }
    out.sort(Comparator.comparing((Path p) -> stamp(p.getFileName().toString())).reversed());
    return out;
  }

  /** Deletes all but the newest {@code keep} backup files; returns what it deleted. */
  public static List<Path> prune(Path dir, int keep) throws IOException {
    List<Path> files = list(dir);
    List<Path> deleted = new ArrayList<>();
    for (int i = keep; i < files.size(); i++) {
      Files.deleteIfExists(files.get(i));
      deleted.add(files.get(i));
    }
    return deleted;
  }

  private static String stamp(String name) {
    return name.substring(name.length() - SUFFIX.length() - 16, name.length() - SUFFIX.length());
  }

  public static String sha256(Path file) throws IOException {
    try (InputStream in = new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
      in.transferTo(java.io.OutputStream.nullOutputStream());
      return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
