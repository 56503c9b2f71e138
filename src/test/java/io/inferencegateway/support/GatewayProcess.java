package io.inferencegateway.support;

import io.inferencegateway.Main;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A gateway started the way operators start it ({@code Main run} with a config file and environment variables), in a
 * child JVM of its own: for tests of several instances, which must be separate processes (one can be killed with
 * kill -9, or stopped with SIGTERM). Its output goes to {@code target/gateway-processes/<name>.log}.
 */
public final class GatewayProcess implements AutoCloseable {

  /** What Hazelcast reaches into on Java 17 (the jar's manifest opens the same). */
  private static final List<String> JVM_OPTIONS = List.of("-Xmx256m", "-XX:+UseSerialGC", "-Xss512k",
      "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
      "--add-opens", "java.base/java.lang=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
      "--add-opens", "java.management/sun.management=ALL-UNNAMED",
      "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED");

  public static final String ADMIN_KEY = "sk-admin-process-test";

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

  /**
   * Starts {@code Main run} and waits until {@code /health/ready} answers 200.
   *
   * @param config the configuration file's content (sections not given take the bundled defaults)
   * @param env environment variables on top of DATA_DIR, HTTP_PORT and ADMIN_API_KEY
   * @param jvmOptions e.g. {@code -Xmx256m}
   */
  public static GatewayProcess startReady(String name, Path dataDir, String databaseUrl, JsonObject config,
                                     Map<String, String> env, List<String> jvmOptions) throws IOException {
    Path dir = Path.of("target", "gateway-processes").toAbsolutePath();
    Files.createDirectories(dir);
    Path configFile = dir.resolve(name + ".json");
    Files.writeString(configFile, config.encodePrettily());
    Path log = dir.resolve(name + ".log");
    int port = TestServices.freePort();
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(JVM_OPTIONS);
    cmd.addAll(jvmOptions);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("io.inferencegateway.Main");
    cmd.add("run");
    cmd.add("--config");
    cmd.add(configFile.toString());
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("HTTP_PORT", Integer.toString(port));
    pb.environment().put("DATA_DIR", dataDir.toString());
    pb.environment().put("ADMIN_API_KEY", ADMIN_KEY);
    if (databaseUrl != null) {
      pb.environment().put("DATABASE_URL", databaseUrl);
    } else {
      pb.environment().remove("DATABASE_URL");
    }
    pb.environment().remove("REDIS_URL");
    pb.environment().putAll(env);
    GatewayProcess gw = new GatewayProcess(name, port, log, pb.start());
    try {
      Poll.until(name + " /health/ready (log: " + log + ")", Duration.ofSeconds(120), () -> {
        if (!gw.process.isAlive()) {
          throw new AssertionError(name + " exited with " + gw.process.exitValue() + "; log: " + gw.logText());
        }
        return gw.status("/health/ready") == 200;
      });
    } catch (AssertionError | RuntimeException e) {
      gw.process.destroyForcibly();
      throw e;
    }
    return gw;
  }

  /** The HTTP status of a GET, or -1 if nothing answered. */
  public int status(String path) {
    try {
      HttpResponse<Void> r = HTTP.send(HttpRequest.newBuilder(URI.create(baseUrl + path))
          .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.discarding());
      return r.statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  /** A value from {@code /metrics} (the first sample of that name), or -1 if it is not there. */
  public double metric(String name) {
    try {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(baseUrl + "/metrics"))
          .timeout(Duration.ofSeconds(5)).header("Authorization", "Bearer " + ADMIN_KEY).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      for (String line : r.body().split("\n")) {
        if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
          return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
      }
      return -1;
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  /** POSTs JSON with the admin key and returns the answer's JSON (fails on a non-2xx answer). */
  public JsonObject admin(String path, JsonObject body) {
    try {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(baseUrl + "/api/v1" + path))
          .timeout(Duration.ofSeconds(10)).header("Authorization", "Bearer " + ADMIN_KEY)
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(),
          HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() / 100 != 2) {
        throw new AssertionError("POST " + path + " answered " + r.statusCode() + ": " + r.body());
      }
      return new JsonObject(r.body());
    } catch (IOException e) {
      throw new AssertionError("POST " + path + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Registers a model with one replica at {@code endpoint} and returns a new API key for it. */
  public String seed(String model, String endpoint) {
    long id = admin("/models", new JsonObject().put("name", model)).getLong("id");
    admin("/models/" + id + "/replicas", new JsonObject().put("endpoint", endpoint));
    return admin("/generate_api_key", new JsonObject().put("user_id", "process-test").put("allowed_rpm", 10_000_000))
        .getString("api_key");
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

  /** SIGTERM, as systemd stops it. */
  public void terminate() {
    process.destroy();
  }

  /** SIGKILL: no shutdown code runs. */
  public void kill() {
    process.destroyForcibly();
  }

  /** Waits for the process to end and returns its exit code. */
  public int awaitExit(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("the gateway process did not exit within " + timeout + "; log: " + log);
    }
    return process.exitValue();
  }

  public String logText() {
    try {
      return Files.readString(log);
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
