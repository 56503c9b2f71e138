package io.inferencegateway.backup;

import io.inferencegateway.store.DatabaseUrl;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * The MariaDB command-line client programs: {@code mysqldump}/{@code mariadb-dump} for backups and
 * {@code mariadb}/{@code mysql} for restores. Credentials go in a temporary option file readable only by this user
 * ({@code --defaults-extra-file}, mode 0600, deleted afterwards): never on the command line, where any user could read
 * them in the process list.
 */
final class MariaDbClient {

  private final DatabaseUrl url;
  private final String dumpCommand;
  private final String clientCommand;
  private final ExternalProcess process = new ExternalProcess();

  /** @param dumpCommand null: mariadb-dump or mysqldump, whichever is on the PATH (likewise clientCommand) */
  MariaDbClient(DatabaseUrl url, String dumpCommand, String clientCommand) {
    this.url = url;
    this.dumpCommand = dumpCommand != null ? dumpCommand : onPath("mariadb-dump", "mysqldump");
    this.clientCommand = clientCommand != null ? clientCommand : onPath("mariadb", "mysql");
  }

  /**
   * Writes a consistent dump of the database to {@code out}: {@code --single-transaction} reads every InnoDB table in
   * one snapshot without locking out writers, {@code --quick} streams rows instead of buffering tables.
   */
  void dump(OutputStream out, long timeoutMs) throws IOException {
    withOptionFile(options -> process.run(dumpCommand, List.of(dumpCommand, "--defaults-extra-file=" + options,
        "--single-transaction", "--quick", "--hex-blob", "--no-tablespaces", "--default-character-set=utf8mb4",
        url.database()), null, out, timeoutMs));
  }

  /** Feeds a dump's SQL to the client, into the configured database. */
  void restore(InputStream sql, long timeoutMs) throws IOException {
    withOptionFile(options -> process.run(clientCommand, List.of(clientCommand, "--defaults-extra-file=" + options,
        "--default-character-set=utf8mb4", "--binary-mode", url.database()), sql, null, timeoutMs));
  }

  void cancel() {
    process.cancel();
  }

  private interface WithFile {
    void run(Path optionFile) throws IOException;
  }

  private void withOptionFile(WithFile work) throws IOException {
    Path file = Files.createTempFile("igw-mysql-", ".cnf",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try {
      Files.writeString(file, optionFile(url), StandardCharsets.UTF_8);
      work.run(file);
    } finally {
      Files.deleteIfExists(file);
    }
  }

  /** protocol=TCP: with host "localhost" the clients would otherwise use a Unix socket, perhaps of another server. */
  static String optionFile(DatabaseUrl url) {
    return "[client]\n"
        + "host=" + quote(url.host()) + "\n"
        + "port=" + url.port() + "\n"
        + "protocol=TCP\n"
        + "user=" + quote(url.user()) + "\n"
        + "password=" + quote(url.password()) + "\n";
  }

  /** An option-file value in double quotes, with the escapes the MariaDB/MySQL option-file reader understands. */
  static String quote(String value) {
    StringBuilder s = new StringBuilder("\"");
    for (char c : value.toCharArray()) {
      switch (c) {
        case '\\' -> s.append("\\\\");
        case '"' -> s.append("\\\"");
        case '\n' -> s.append("\\n");
        case '\r' -> s.append("\\r");
        case '\t' -> s.append("\\t");
        case '\b' -> s.append("\\b");
        default -> s.append(c);
      }
    }
    return s.append('"').toString();
  }

  private static String onPath(String... names) {
    String path = System.getenv("PATH");
    List<String> dirs = path == null ? List.of() : List.of(path.split(File.pathSeparator));
    for (String name : names) {
      for (String dir : dirs) {
        if (new File(dir, name).canExecute()) {
          return name;
        }
      }
    }
    return names[names.length - 1]; // not found: running it gives the clear "cannot run" error
  }

}
