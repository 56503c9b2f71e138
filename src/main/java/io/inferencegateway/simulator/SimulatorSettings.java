package io.inferencegateway.simulator;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Behaviour of a {@link SimulatorVerticle}: what it serves, how fast, and which faults it injects.
 * JSON keys are the component names. Every instance is validated, so a bad value never reaches the server.
 */
public record SimulatorSettings(
    List<String> models,
    int tokensPerAnswer,
    long timeToFirstTokenMs,
    long interTokenMs,
    int embeddingDimensions,
    int maxModelLen,
    int maxNumSeqs,
    double errorRate,
    double unavailableRate,
    double hangRate,
    double dropMidStreamRate,
    long slowStartMs,
    boolean healthy,
    long seed) {

  /** The two models the demo and the command serve when none are named. */
  public static final List<String> PRESET_MODELS =
      List.of("NousResearch/Meta-Llama-3.1-8B-Instruct", "microsoft/Phi-3-medium-128k-instruct");

  // Kept in component order; merge() and the error message for unknown keys use it.
  static final List<String> KEYS = List.of(
      "models", "tokensPerAnswer", "timeToFirstTokenMs", "interTokenMs", "embeddingDimensions",
      "maxModelLen", "maxNumSeqs", "errorRate", "unavailableRate", "hangRate", "dropMidStreamRate",
      "slowStartMs", "healthy", "seed");
  private static final Set<String> KEY_SET = Set.copyOf(KEYS);

  public SimulatorSettings {
    if (models == null || models.isEmpty()) {
      throw new IllegalArgumentException("models must name at least one model");
    }
    for (String m : models) {
      if (m == null || m.isBlank()) {
        throw new IllegalArgumentException("models must not contain blank names");
      }
    }
    if (Set.copyOf(models).size() != models.size()) {
      throw new IllegalArgumentException("models must not contain duplicates: " + models);
    }
    models = List.copyOf(models);
    atLeast("tokensPerAnswer", tokensPerAnswer, 1);
    atLeast("timeToFirstTokenMs", timeToFirstTokenMs, 0);
    atLeast("interTokenMs", interTokenMs, 0);
    atLeast("embeddingDimensions", embeddingDimensions, 1);
    atLeast("maxModelLen", maxModelLen, 1);
    atLeast("maxNumSeqs", maxNumSeqs, 1);
    atLeast("slowStartMs", slowStartMs, 0);
    rate("errorRate", errorRate);
    rate("unavailableRate", unavailableRate);
    rate("hangRate", hangRate);
    rate("dropMidStreamRate", dropMidStreamRate);
  }

  public static SimulatorSettings defaults(List<String> models) {
    return new SimulatorSettings(models, 20, 0, 0, 384, 15360, 256, 0, 0, 0, 0, 0, true, 42);
  }

  /** Settings from JSON; absent keys take the defaults, absent models the two presets. */
  public static SimulatorSettings fromJson(JsonObject json) {
    return defaults(PRESET_MODELS).merge(json);
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("models", new JsonArray(new ArrayList<>(models)))
        .put("tokensPerAnswer", tokensPerAnswer)
        .put("timeToFirstTokenMs", timeToFirstTokenMs)
        .put("interTokenMs", interTokenMs)
        .put("embeddingDimensions", embeddingDimensions)
        .put("maxModelLen", maxModelLen)
        .put("maxNumSeqs", maxNumSeqs)
        .put("errorRate", errorRate)
        .put("unavailableRate", unavailableRate)
        .put("hangRate", hangRate)
        .put("dropMidStreamRate", dropMidStreamRate)
        .put("slowStartMs", slowStartMs)
        .put("healthy", healthy)
        .put("seed", seed);
  }

  /**
   * A copy with the keys of {@code patch} replaced.
   *
   * @throws IllegalArgumentException on an unknown key, a value of the wrong type or out of range
   */
  public SimulatorSettings merge(JsonObject patch) {
    if (patch == null || patch.isEmpty()) {
      return this;
    }
    for (String key : patch.fieldNames()) {
      if (!KEY_SET.contains(key)) {
        throw new IllegalArgumentException(
            "Unknown simulator setting '" + key + "'; known settings: " + String.join(", ", KEYS));
      }
    }
    Map<String, Object> p = patch.getMap();
    return new SimulatorSettings(
        p.containsKey("models") ? stringList(p.get("models")) : models,
        p.containsKey("tokensPerAnswer") ? toInt("tokensPerAnswer", p.get("tokensPerAnswer")) : tokensPerAnswer,
        p.containsKey("timeToFirstTokenMs") ? toLong("timeToFirstTokenMs", p.get("timeToFirstTokenMs")) : timeToFirstTokenMs,
        p.containsKey("interTokenMs") ? toLong("interTokenMs", p.get("interTokenMs")) : interTokenMs,
        p.containsKey("embeddingDimensions") ? toInt("embeddingDimensions", p.get("embeddingDimensions")) : embeddingDimensions,
        p.containsKey("maxModelLen") ? toInt("maxModelLen", p.get("maxModelLen")) : maxModelLen,
        p.containsKey("maxNumSeqs") ? toInt("maxNumSeqs", p.get("maxNumSeqs")) : maxNumSeqs,
        p.containsKey("errorRate") ? toDouble("errorRate", p.get("errorRate")) : errorRate,
        p.containsKey("unavailableRate") ? toDouble("unavailableRate", p.get("unavailableRate")) : unavailableRate,
        p.containsKey("hangRate") ? toDouble("hangRate", p.get("hangRate")) : hangRate,
        p.containsKey("dropMidStreamRate") ? toDouble("dropMidStreamRate", p.get("dropMidStreamRate")) : dropMidStreamRate,
        p.containsKey("slowStartMs") ? toLong("slowStartMs", p.get("slowStartMs")) : slowStartMs,
        p.containsKey("healthy") ? toBoolean("healthy", p.get("healthy")) : healthy,
        p.containsKey("seed") ? toLong("seed", p.get("seed")) : seed);
  }

  private static void atLeast(String key, long value, long min) {
    if (value < min) {
      throw new IllegalArgumentException(key + " must be >= " + min + ", got " + value);
    }
  }

  private static void rate(String key, double value) {
    // The negated form also rejects NaN.
    if (!(value >= 0.0 && value <= 1.0)) {
      throw new IllegalArgumentException(key + " must be between 0 and 1, got " + value);
    }
  }

  private static List<String> stringList(Object value) {
    List<?> raw;
    if (value instanceof JsonArray a) {
      raw = a.getList();
    } else if (value instanceof List<?> l) {
      raw = l;
    } else if (value instanceof String s) {
      // Accept "a,b" as well, the form the command line uses.
      raw = List.of(s.split(","));
    } else {
      throw new IllegalArgumentException("models must be a list of model names");
    }
    List<String> names = new ArrayList<>(raw.size());
    for (Object o : raw) {
      if (!(o instanceof String s)) {
        throw new IllegalArgumentException("models must be a list of model names");
      }
      names.add(s.trim());
    }
    return names;
  }

  private static int toInt(String key, Object value) {
    long l = toLong(key, value);
    if (l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(key + " is out of range: " + value);
    }
    return (int) l;
  }

  private static long toLong(String key, Object value) {
    if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
      return ((Number) value).longValue();
    }
    if (value instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())
        && !Double.isInfinite(n.doubleValue())) {
      return n.longValue();
    }
    throw new IllegalArgumentException(key + " must be an integer, got " + value);
  }

  private static double toDouble(String key, Object value) {
    if (value instanceof Number n) {
      return n.doubleValue();
    }
    throw new IllegalArgumentException(key + " must be a number, got " + value);
  }

  private static boolean toBoolean(String key, Object value) {
    if (value instanceof Boolean b) {
      return b;
    }
    throw new IllegalArgumentException(key + " must be true or false, got " + value);
  }
}
