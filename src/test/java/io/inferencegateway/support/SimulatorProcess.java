package io.inferencegateway.support;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A vLLM simulator in its own JVM ({@code Main simulate}, on the test's class path), so a test can kill it the way a
 * replica dies: {@link #kill()} sends SIGKILL, and the kernel resets its connections mid-answer.
 */
public final class SimulatorProcess implements AutoCloseable {

  private final Process process;
  private final int port;
  private final Path log;

  private SimulatorProcess(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  /** Starts {@code simulate --port <port> <args>} and waits until it answers {@code /health}. */
  public static SimulatorProcess start(int port, String... args) {
    try {
      Path log = Files.createTempFile("simulator-" + port, ".log");
      List<String> command = new ArrayList<>(List.of(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx128m", "-XX:TieredStopAtLevel=1",
          "-cp", System.getProperty("java.class.path"), "io.inferencegateway.Main", "simulate",
          "--host", "127.0.0.1", "--port", Integer.toString(port)));
      command.addAll(List.of(args));
      Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      SimulatorProcess sim = new SimulatorProcess(p, port, log);
      Runtime.getRuntime().addShutdownHook(new Thread(p::destroyForcibly, "simulator-" + port + "-stop"));
      Poll.until("the simulator process on port " + port + " answers /health", Duration.ofSeconds(60), () -> {
        if (!p.isAlive()) {
          throw new IllegalStateException("the simulator process ended: " + sim.output());
        }
        return sim.healthy();
      });
      return sim;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public int port() {
    return port;
  }

  public String url() {
    return "http://127.0.0.1:" + port;
  }

  private boolean healthy() {
    try {
      HttpURLConnection c = (HttpURLConnection) URI.create(url() + "/health").toURL().openConnection();
      c.setConnectTimeout(500);
      c.setReadTimeout(500);
      try {
        return c.getResponseCode() == 200;
      } finally {
        c.disconnect();
      }
    } catch (IOException e) {
      return false;
    }
  }

  /** kill -9: no shutdown hook runs, open connections are reset by the kernel. */
  public void kill() {
    process.destroyForcibly();
    try {
      process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public String output() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no output: " + e.getMessage() + ")";
    }
  }

  @Override
  public void close() {
    kill();
    try {
      Files.deleteIfExists(log);
    } catch (IOException e) {
      // a temp file
    }
  }
}
