package io.inferencegateway.config;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Reads the configuration before Vert.x starts (plain blocking file reads are fine here: we are on the main thread).
 * Order: the file given with --config, else ./conf/config.json, else the copy bundled in the jar; then the environment.
 */
public final class ConfigLoader {

  private ConfigLoader() {}

  public static GatewayConfig load(Path explicitFile, Map<String, String> env) {
    return GatewayConfig.fromJson(readJson(explicitFile)).withEnvironment(env);
  }

  public static JsonObject readJson(Path explicitFile) {
    try {
      if (explicitFile != null) {
        return parse(Files.readString(explicitFile), explicitFile.toString());
      }
      Path local = Path.of("conf", "config.json");
      if (Files.isRegularFile(local)) {
        return parse(Files.readString(local), local.toString());
      }
      return bundledDefaults();
    } catch (IOException e) {
      throw new IllegalArgumentException("Cannot read configuration: " + e.getMessage(), e);
    }
  }

  public static JsonObject bundledDefaults() {
    try (InputStream in = ConfigLoader.class.getResourceAsStream("/conf/config.json")) {
      if (in == null) {
        return new JsonObject();
      }
      return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "bundled conf/config.json");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static JsonObject parse(String text, String where) {
    try {
      return new JsonObject(text);
    } catch (DecodeException e) {
      throw new IllegalArgumentException("Configuration " + where + " is not valid JSON: " + e.getMessage(), e);
    }
  }
}
