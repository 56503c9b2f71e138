package io.inferencegateway.support;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Adobe's S3Mock (an S3-compatible server, Apache-2.0) as a separate java process on free ports, for the backup
 * upload tests. Its executable jar is copied to {@code target/s3mock/} by the build (maven-dependency-plugin); it is a
 * Spring Boot application, kept off the tests' classpath. One server serves every test class of the run and is
 * stopped when the test JVM exits.
 */
public final class S3MockServer {

  public static final String BUCKET = "gateway-backups";
  private static S3MockServer shared;

  public final int port;
  private final Process process;

  private S3MockServer(int port, Process process) {
    this.port = port;
    this.process = process;
  }

  public String endpoint() {
    return "http://127.0.0.1:" + port;
  }

  public static synchronized S3MockServer shared() {
    if (shared == null) {
      shared = start();
      S3MockServer s = shared;
      Runtime.getRuntime().addShutdownHook(new Thread(() -> s.process.destroyForcibly(), "s3mock-stop"));
    }
    if (!shared.process.isAlive()) {
      throw new IllegalStateException("S3Mock exited (see target/s3mock/s3mock.log)");
    }
    return shared;
  }

  private static S3MockServer start() {
    Path jar = Path.of("target", "s3mock", "s3mock.jar");
    if (!Files.isRegularFile(jar)) {
      if (TestServices.ci()) {
        throw new AssertionError("CI=true and " + jar + " is missing (the build copies it in generate-test-resources)");
      }
      Assumptions.abort("skipped: no " + jar + " (run the tests through Maven)");
    }
    try {
      int http = TestServices.freePort();
      int https = TestServices.freePort();
      Path root = Files.createTempDirectory("s3mock");
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      Process p = new ProcessBuilder(List.of(java, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-jar", jar.toString(),
          "--server.port=" + https, "--com.adobe.testing.s3mock.httpPort=" + http, "--server.address=127.0.0.1",
          "--com.adobe.testing.s3mock.store.initial-buckets=" + BUCKET,
          "--com.adobe.testing.s3mock.store.root=" + root, "--spring.main.banner-mode=off"))
          .redirectErrorStream(true)
          .redirectOutput(Path.of("target", "s3mock", "s3mock.log").toFile())
          .start();
      long deadline = System.currentTimeMillis() + 180_000;
      while (System.currentTimeMillis() < deadline) {
        if (!p.isAlive()) {
          throw new IllegalStateException("S3Mock exited with " + p.exitValue() + " (see target/s3mock/s3mock.log)");
        }
        if (answers(http)) {
          return new S3MockServer(http, p);
        }
        Thread.sleep(250);
      }
      p.destroyForcibly();
      throw new IllegalStateException("S3Mock did not answer within 180 s (see target/s3mock/s3mock.log)");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static boolean answers(int port) {
    try {
      HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + "/").toURL().openConnection();
      c.setConnectTimeout(500);
      c.setReadTimeout(2000);
      int status = c.getResponseCode();
      c.disconnect();
      return status > 0;
    } catch (IOException e) {
      return false;
    }
  }
}
