package io.inferencegateway.backup;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs a client program (mysqldump, mariadb) to the end on the calling thread, which must not be an event loop:
 * stdin from a stream, stdout to a stream, the tail of stderr kept for the error message. It is killed after
 * {@code timeoutMs}, or when {@link #cancel()} is called (the gateway stopping).
 */
final class ExternalProcess {

  private static final int STDERR_TAIL_BYTES = 2000;

  private final AtomicReference<Process> running = new AtomicReference<>();
  private volatile boolean cancelled;

  /** Kills the program running now, if any; later {@link #run} calls fail at once. */
  void cancel() {
    cancelled = true;
    Process p = running.get();
    if (p != null) {
      p.destroyForcibly();
    }
  }

  /**
   * @param what names the program in error messages
   * @param stdin fed to the program, or null for none
   * @param stdout receives its output, or null to discard it
   * @throws IOException if it cannot start, exits with a non-zero status (the message has the end of its stderr),
   *     times out or is cancelled
   */
  void run(String what, List<String> command, InputStream stdin, OutputStream stdout, long timeoutMs)
      throws IOException {
    if (cancelled) {
      throw new IOException(what + " was not started: the gateway is stopping");
    }
    ProcessBuilder builder = new ProcessBuilder(command);
    if (stdin == null) {
      builder.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    }
    if (stdout == null) {
      builder.redirectOutput(ProcessBuilder.Redirect.DISCARD);
    }
    Process process;
    try {
      process = builder.start();
    } catch (IOException e) {
      throw new IOException("cannot run " + command.get(0) + " (" + e.getMessage() + "); install the MariaDB client"
          + " (Debian: apt-get install mariadb-client) or set its path in the backup settings", e);
    }
    running.set(process);
    AtomicBoolean timedOut = new AtomicBoolean();
    CompletableFuture<Void> killer = CompletableFuture.runAsync(() -> {
      timedOut.set(true);
      process.destroyForcibly();
    }, CompletableFuture.delayedExecutor(timeoutMs, TimeUnit.MILLISECONDS));
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    Thread stderrReader = new Thread(() -> tail(process.getErrorStream(), stderr), what + "-stderr");
    stderrReader.setDaemon(true);
    stderrReader.start();
    IOException streamFailure = null;
    try {
      try {
        if (stdin != null) {
          try (OutputStream in = process.getOutputStream()) {
            stdin.transferTo(in);
          }
        }
        if (stdout != null) {
          try (InputStream out = process.getInputStream()) {
            out.transferTo(stdout);
          }
        }
      } catch (IOException e) {
        streamFailure = e; // often a broken pipe because the program failed: its status and stderr say why
      }
      int status = process.waitFor();
      stderrReader.join(5000);
      if (cancelled) {
        throw new IOException(what + " was stopped: the gateway is stopping");
      }
      if (timedOut.get()) {
        throw new IOException(what + " timed out after " + timeoutMs + " ms and was stopped");
      }
      if (status != 0) {
        throw new IOException(what + " failed (exit status " + status + "): " + text(stderr));
      }
      if (streamFailure != null) {
        throw streamFailure;
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException(what + " was interrupted", e);
    } finally {
      killer.cancel(false);
      running.set(null);
    }
  }

  private static void tail(InputStream err, ByteArrayOutputStream sink) {
    byte[] buf = new byte[4096];
    try (err) {
      for (int n; (n = err.read(buf)) >= 0; ) {
        synchronized (sink) {
          sink.write(buf, 0, n);
          if (sink.size() > 4 * STDERR_TAIL_BYTES) {
            byte[] all = sink.toByteArray();
            sink.reset();
            sink.write(all, all.length - STDERR_TAIL_BYTES, STDERR_TAIL_BYTES);
          }
        }
      }
    } catch (IOException ignored) {
      // the process went away; what was read is kept
    }
  }

  private static String text(ByteArrayOutputStream stderr) {
    String s;
    synchronized (stderr) {
      s = stderr.toString(StandardCharsets.UTF_8).strip();
    }
    if (s.length() > STDERR_TAIL_BYTES) {
      s = "..." + s.substring(s.length() - STDERR_TAIL_BYTES);
    }
    return s.isEmpty() ? "(no error output)" : s.replaceAll("\\s*\\n\\s*", " | ");
  }
}
