package io.inferencegateway.support;

import io.inferencegateway.Main;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A gateway started the way operators start it ({@code Main run} with a config file and environment variables), in a
 * child JVM of its own: for tests of several instances, which must be separate processes (one can be killed with
 * kill -9). Its output goes to {@code target/gateway-processes/<name>.log}.
 */
public final class GatewayProcess implements AutoCloseable {

  /** What Hazelcast reaches into on Java 17 (the jar's manifest opens the same). */
  private static final List<String> JVM_OPTIONS = List.of("-Xmx256m", "-XX:+UseSerialGC", "-Xss512k",
      "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
      "--add-opens", "java.base/java.lang=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
      "--add-opens", "java.management/sun.management=ALL-UNNAMED",
      "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED");

  public final String name;
  public final int httpPort;
  public final String baseUrl;
  public final Path log;
  private final Process process;

  private GatewayProcess(String name, int httpPort, Path log, Process process) {
    this.name = name;
    this.httpPort = httpPort;
    this.baseUrl = "http://127.0.0.1:" + httpPort;
    this.log = log;
    this.process = process;
  }

  /** Starts {@code java ... Main run --config configFile} with these environment variables added. */
  public static GatewayProcess start(String name, Path configFile, int httpPort, Map<String, String> env) {
    try {
      Path logDir = Path.of("target", "gateway-processes");
      Files.createDirectories(logDir);
      Path log = logDir.resolve(name + ".log");
      String java = ProcessHandle.current().info().command().orElse("java");
      List<String> command = new ArrayList<>();
      command.add(java);
      command.addAll(JVM_OPTIONS);
      command.add("-cp");
      command.add(System.getProperty("java.class.path"));
      command.add(Main.class.getName());
      command.add("run");
      command.add("--config");
      command.add(configFile.toString());
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.to(log.toFile()));
      pb.environment().putAll(env);
      pb.environment().put("HTTP_PORT", Integer.toString(httpPort));
      return new GatewayProcess(name, httpPort, log, pb.start());
    } catch (IOException e) {
      throw new IllegalStateException("could not start gateway " + name, e);
    }
  }

  public long pid() {
    return process.pid();
  }

  public boolean alive() {
    return process.isAlive();
  }

  /** kill -9: no shutdown hook runs, nothing is flushed, the cluster sees its connections drop. */
  public void kill9() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
  }

  /** The last lines of its output, for failure messages. */
  public String tail() {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  /** SIGTERM, then kill -9 if it has not stopped after 20 s. */
  @Override
  public void close() throws InterruptedException {
    if (!process.isAlive()) {
      return;
    }
    process.destroy();
    if (!process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
      kill9();
    }
  }
}
