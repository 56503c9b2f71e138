package io.inferencegateway.console;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The third-party files under webroot/vendor/ cannot drift from console/package-lock.json: exact pins, the manifest
 * written by console/vendor.sh agrees with the lock, every file has the hash the manifest records, the banners carry
 * the locked versions, each library has its licence, and index.html loads them with their version in the URL.
 */
class VendorFilesTest {

  static final Path CONSOLE = Path.of("console");
  static final Path VENDOR = Path.of("webroot", "vendor");

  static JsonObject json(Path p) throws IOException {
    return new JsonObject(Files.readString(p));
  }

  static String sha256(Path p) throws IOException, NoSuchAlgorithmException {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
  }

  @Test
  void dependenciesArePinnedExactly() throws IOException {
    JsonObject deps = json(CONSOLE.resolve("package.json")).getJsonObject("dependencies");
    assertThat(deps.fieldNames()).containsExactlyInAnyOrder("chart.js", "sockjs-client", "@vertx/eventbus-bridge-client.js");
    for (Map.Entry<String, Object> e : deps) {
      assertThat((String) e.getValue()).as(e.getKey()).matches("\\d+\\.\\d+\\.\\d+");
    }
  }

  @Test
  void vendoredFilesMatchTheLockAndTheManifest() throws Exception {
    JsonObject lock = json(CONSOLE.resolve("package-lock.json")).getJsonObject("packages");
    JsonObject pins = json(CONSOLE.resolve("package.json")).getJsonObject("dependencies");
    JsonObject manifest = json(VENDOR.resolve("manifest.json")).getJsonObject("packages");
    for (String name : pins.fieldNames()) {
      assertThat(lock.getJsonObject("node_modules/" + name).getString("version")).as(name).isEqualTo(pins.getString(name));
    }
    assertThat(manifest.fieldNames()).containsAll(pins.fieldNames());
    for (String name : manifest.fieldNames()) {
      JsonObject entry = manifest.getJsonObject(name);
      JsonObject locked = lock.getJsonObject("node_modules/" + name);
      assertThat(locked).as("%s is in the lock", name).isNotNull();
      assertThat(entry.getString("version")).as(name).isEqualTo(locked.getString("version"));
      assertThat(entry.getString("integrity")).as(name).isEqualTo(locked.getString("integrity"));
      JsonObject files = entry.getJsonObject("files");
      assertThat(files.fieldNames()).as("%s lists its files and licence", name)
          .anyMatch(f -> f.startsWith("licenses/"));
      for (String file : files.fieldNames()) {
        Path p = VENDOR.resolve(file);
        assertThat(p).as(file).exists();
        assertThat(sha256(p)).as("%s changed without console/vendor.sh", file).isEqualTo(files.getString(file));
      }
    }
  }

  @Test
  void bannersCarryTheLockedVersions() throws IOException {
    JsonObject pins = json(CONSOLE.resolve("package.json")).getJsonObject("dependencies");
    assertThat(head(VENDOR.resolve("chart.umd.min.js"))).contains("Chart.js v" + pins.getString("chart.js"));
    assertThat(head(VENDOR.resolve("sockjs.min.js"))).contains("sockjs-client v" + pins.getString("sockjs-client"));
    assertThat(head(VENDOR.resolve("vertx-eventbus.js"))).contains("Apache License v2.0");
  }

  @Test
  void indexLoadsEachVendorFileWithItsVersion() throws IOException {
    JsonObject manifest = json(VENDOR.resolve("manifest.json")).getJsonObject("packages");
    String index = Files.readString(Path.of("webroot", "index.html"));
    Matcher m = Pattern.compile("src=\"vendor/([^\"?]+)\\?v=([^\"]+)\"").matcher(index);
    int found = 0;
    while (m.find()) {
      found++;
      String file = m.group(1);
      String owner = manifest.fieldNames().stream()
          .filter(n -> manifest.getJsonObject(n).getJsonObject("files").containsKey(file)).findFirst().orElse(null);
      assertThat(owner).as("vendor/%s is in the manifest", file).isNotNull();
      assertThat(m.group(2)).as("?v= of vendor/%s", file).isEqualTo(manifest.getJsonObject(owner).getString("version"));
    }
    assertThat(found).isEqualTo(3);
  }

  private static String head(Path p) throws IOException {
    String s = Files.readString(p);
    return s.substring(0, Math.min(s.length(), 1200));
  }
}
