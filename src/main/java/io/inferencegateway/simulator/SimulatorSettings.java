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
 *
 * <p>{@code engine} picks how answers are timed: {@value #INSTANT} (the default) answers after the fixed
 * {@code timeToFirstTokenMs} and {@code interTokenMs}, with {@code maxNumSeqs} slots; {@value #FAITHFUL}
 * runs vLLM's continuous batching with a prefix cache of {@code kvCacheTokens} tokens, a step budget of
 * {@code maxNumBatchedTokens} and step times from {@link StepCost} ({@code stepBaseMs}, {@code stepPerSeqMs},
 * {@code prefillPerTokenMs}); the fixed latencies are then not used.
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
    long seed,
    String engine,
    int kvCacheTokens,
    int maxNumBatchedTokens,
    double stepBaseMs,
    double stepPerSeqMs,
    double prefillPerTokenMs) {

  public static final String INSTANT = "instant";
  public static final String FAITHFUL = "faithful";

  /** The two models the demo and the command serve when none are named. */
  public static final List<String> PRESET_MODELS =
      List.of("NousResearch/Meta-Llama-3.1-8B-Instruct", "microsoft/Phi-3-medium-128k-instruct");

  // Kept in component order; merge() and the error message for unknown keys use it.
  static final List<String> KEYS = List.of(
      "models", "tokensPerAnswer", "timeToFirstTokenMs", "interTokenMs", "embeddingDimensions",
      "maxModelLen", "maxNumSeqs", "errorRate", "unavailableRate", "hangRate", "dropMidStreamRate",
      "slowStartMs", "healthy", "seed", "engine", "kvCacheTokens", "maxNumBatchedTokens", "stepBaseMs",
      "stepPerSeqMs", "prefillPerTokenMs");
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
    if (!INSTANT.equals(engine) && !FAITHFUL.equals(engine)) {
      throw new IllegalArgumentException("engine must be '" + INSTANT + "' or '" + FAITHFUL + "', got " + engine);
    }
    atLeast("kvCacheTokens", kvCacheTokens, BlockPool.BLOCK_SIZE);
    atLeast("maxNumBatchedTokens", maxNumBatchedTokens, 1);
    atLeastZero("stepBaseMs", stepBaseMs);
    atLeastZero("stepPerSeqMs", stepPerSeqMs);
    atLeastZero("prefillPerTokenMs", prefillPerTokenMs);
    if (FAITHFUL.equals(engine) && kvCacheTokens < maxModelLen) {
      // vLLM refuses to start when one full-length request would not fit in the KV cache.
      throw new IllegalArgumentException("kvCacheTokens (" + kvCacheTokens + ") must be at least maxModelLen ("
          + maxModelLen + ") with the faithful engine");
    }
  }

  /** Defaults of the faithful engine, documented in {@code simulate --help} and {@link StepCost}. */
  public static final int DEFAULT_KV_CACHE_TOKENS = 65536;
  public static final int DEFAULT_MAX_NUM_BATCHED_TOKENS = 2048;

  public static SimulatorSettings defaults(List<String> models) {
    return new SimulatorSettings(models, 20, 0, 0, 384, 15360, 256, 0, 0, 0, 0, 0, true, 42, INSTANT,
        DEFAULT_KV_CACHE_TOKENS, DEFAULT_MAX_NUM_BATCHED_TOKENS, 6.5, 0.75, 0.075);
  }

  public boolean faithful() {
    return FAITHFUL.equals(engine);
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
        .put("seed", seed)
        .put("engine", engine)
        .put("kvCacheTokens", kvCacheTokens)
        .put("maxNumBatchedTokens", maxNumBatchedTokens)
        .put("stepBaseMs", stepBaseMs)
        .put("stepPerSeqMs", stepPerSeqMs)
        .put("prefillPerTokenMs", prefillPerTokenMs);
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
        p.containsKey("seed") ? toLong("seed", p.get("seed")) : seed,
        p.containsKey("engine") ? toStringValue("engine", p.get("engine")) : engine,
        p.containsKey("kvCacheTokens") ? toInt("kvCacheTokens", p.get("kvCacheTokens")) : kvCacheTokens,
        p.containsKey("maxNumBatchedTokens") ? toInt("maxNumBatchedTokens", p.get("maxNumBatchedTokens"))
            : maxNumBatchedTokens,
        p.containsKey("stepBaseMs") ? toDouble("stepBaseMs", p.get("stepBaseMs")) : stepBaseMs,
        p.containsKey("stepPerSeqMs") ? toDouble("stepPerSeqMs", p.get("stepPerSeqMs")) : stepPerSeqMs,
        p.containsKey("prefillPerTokenMs") ? toDouble("prefillPerTokenMs", p.get("prefillPerTokenMs"))
            : prefillPerTokenMs);
  }

  private static void atLeast(String key, long value, long min) {
    if (value < min) {
      throw new IllegalArgumentException(key + " must be >= " + min + ", got " + value);
    }
  }

  private static void atLeastZero(String key, double value) {
    // The negated form also rejects NaN.
    if (!(value >= 0.0) || Double.isInfinite(value)) {
      throw new IllegalArgumentException(key + " must be a number >= 0, got " + value);
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

  private static String toStringValue(String key, Object value) {
    if (value instanceof String v) {
      return v;
    }
    throw new IllegalArgumentException(key + " must be a string, got " + value);
  }

  private static boolean toBoolean(String key, Object value) {
    if (value instanceof Boolean b) {
      return b;
    }
    throw new IllegalArgumentException(key + " must be true or false, got " + value);
  }
}
