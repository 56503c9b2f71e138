package io.inferencegateway.simulator;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * {@code simulate}: runs a vLLM simulator until the JVM is killed.
 *
 * <pre>java -jar target/inference-gateway.jar simulate --port 8000 --models a,b</pre>
 */
public final class SimulatorCommand {

  static final String USAGE = String.join("\n",
      "Usage: simulate [options]",
      "Runs a simulated vLLM OpenAI-compatible server (chat, completions, embeddings, /metrics).",
      "Tokens are approximated by words: one whitespace-separated word is one token, in prompts and answers.",
      "",
      "  --port N            port to listen on (default 8000, 0 = any free port)",
      "  --host H            address to bind (default 0.0.0.0)",
      "  --api-key K         like vLLM's: /v1/* needs Authorization: Bearer K (401 otherwise); /health, /metrics",
      "                      stay open (default: the VLLM_API_KEY environment variable, else no key)",
      "  --models a,b        served model names (default " + String.join(",", SimulatorSettings.PRESET_MODELS) + ")",
      "  --tokens N          tokens (words) per answer (default 20)",
      "  --max-num-seqs N    requests running at once; the rest wait in a queue (default 256)",
      "  --max-model-len N   context length (default 15360)",
      "  --embedding-dim N   embedding vector size (default 384)",
      "  --engine E          instant (default) or faithful, see below",
      "",
      "Instant engine (the demo's): answers after fixed delays.",
      "  --ttft-ms N         time to first token in ms (default 0)",
      "  --itl-ms N          time between tokens in ms (default 0)",
      "",
      "Faithful engine: vLLM's continuous batching with a prefix cache, one model per engine. Each step",
      "schedules running sequences first (one token each, or the next chunk of a prompt), then admits",
      "waiting ones while fewer than --max-num-seqs run, the step's token budget lasts and their KV blocks",
      "fit; a request that does not fit waits (vllm:num_requests_waiting), and a running one that needs a",
      "block when none is free preempts the last one admitted. Blocks hold 16 tokens and are cached by a",
      "hash chained over the prompt, so a request sharing a prefix computes only the rest; free cached",
      "blocks are evicted least recently used first. A step takes",
      "    max(base, per-seq * sequences in the step) + prefill-per-token * prompt tokens computed in it",
      "milliseconds (shaped after vLLM on an H100 with an 8B model) and gives every sequence whose prompt",
      "is computed its next token. /metrics adds the prefix-cache counters, preemptions, the",
      "time-to-first-token histogram and cache_config_info; usage carries prompt_tokens_details.cached_tokens.",
      "  --kv-cache-tokens N        KV-cache capacity in tokens (default " + SimulatorSettings.DEFAULT_KV_CACHE_TOKENS
          + ", at least --max-model-len)",
      "  --max-num-batched-tokens N token budget of one step; longer prompts are prefilled in chunks (default "
          + SimulatorSettings.DEFAULT_MAX_NUM_BATCHED_TOKENS + ")",
      "  --step-base-ms x           time of a step with a small batch (default 6.5)",
      "  --step-per-seq-ms x        step time per sequence once the batch outgrows the base (default 0.75)",
      "  --prefill-per-token-ms x   added per prompt token computed in the step (default 0.075)",
      "",
      "Continuations (both engines): a chat request with continue_final_message: true and",
      "add_generation_prompt: false continues its last (assistant) message, and a completion prompt that ends",
      "with the first words of its own answer continues after them: the answer is the unbroken answer's words",
      "after those already given, so first part + continuation = the answer of one unbroken request.",
      "",
      "Faults:",
      "  --error-rate x      share of requests answered 500 (0..1)",
      "  --unavailable-rate x share of requests answered 503 (0..1)",
      "  --hang-rate x       share of requests never answered (0..1)",
      "  --drop-rate x       share of streams cut after about half of the tokens (0..1)",
      "  --slow-start-ms N   extra delay before the response headers",
      "  --seed N            seed for the fault draws",
      "  --help              print this help",
      "",
      "Control endpoints: GET/POST /sim/settings, GET /sim/stats, POST /sim/stats/reset.");

  /** What the command line asked for. */
  record Options(int port, String host, SimulatorSettings settings, String apiKey) {

    Options(int port, String host, SimulatorSettings settings) {
      this(port, host, settings, null);
    }

    @Override
    public String toString() {
      return "Options[port=" + port + ", host=" + host + ", apiKey=" + (apiKey == null ? "unset" : "set") + "]";
    }
  }

  private SimulatorCommand() {
  }

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /**
   * Parses the arguments, starts the simulator and blocks until the JVM is killed.
   *
   * @return 0 after {@code --help}, 2 on bad arguments, 1 if the server could not start
   */
  public static int run(String[] args) {
    if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
      System.out.println(USAGE);
      return 0;
    }
    Options options;
    try {
      options = parse(args);
    } catch (IllegalArgumentException e) {
      return usageError(System.err, e.getMessage());
    }
    Vertx vertx = Vertx.vertx(new io.vertx.core.VertxOptions().setPreferNativeTransport(true));
    String apiKey = options.apiKey() != null ? options.apiKey() : blankToNull(System.getenv("VLLM_API_KEY"));
    SimulatorVerticle verticle = new SimulatorVerticle(options.port(), options.settings(), options.host(), apiKey);
    try {
      vertx.deployVerticle(verticle).await();
    } catch (Exception e) {
      System.err.println("vLLM simulator could not start on port " + options.port() + ": " + e.getMessage());
      vertx.close();
      return 1;
    }
    System.out.println("vLLM simulator listening on http://127.0.0.1:" + verticle.actualPort() + " serving "
        + String.join(",", options.settings().models()) + " (" + options.settings().engine() + " engine)");
    CountDownLatch forever = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> vertx.close().await(), "simulator-shutdown"));
    try {
      forever.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }

  private static int usageError(PrintStream err, String message) {
    err.println("simulate: " + message);
    err.println("Try 'simulate --help'.");
    return 2;
  }

  /** Parses {@code --name value} and {@code --name=value} forms. */
  static Options parse(String[] args) {
    int port = 8000;
    String host = "0.0.0.0";
    String apiKey = null;
    List<String> models = SimulatorSettings.PRESET_MODELS;
    JsonObject patch = new JsonObject();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      String value;
      int eq = arg.indexOf('=');
      String name = eq > 0 ? arg.substring(0, eq) : arg;
      if (!name.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument '" + arg + "'");
      }
      if (eq > 0) {
        value = arg.substring(eq + 1);
      } else if (i + 1 < args.length) {
        value = args[++i];
      } else {
        throw new IllegalArgumentException(name + " needs a value");
      }
      switch (name) {
        case "--port" -> {
          port = integer(name, value);
          if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--port must be between 0 and 65535, got " + port);
          }
        }
        case "--host" -> host = value;
        case "--api-key" -> {
          if (value.isBlank()) {
            throw new IllegalArgumentException("--api-key must not be empty");
          }
          apiKey = value;
        }
        case "--models" -> {
          models = Arrays.stream(value.split(",")).map(String::trim).filter(m -> !m.isEmpty()).toList();
          if (models.isEmpty()) {
            throw new IllegalArgumentException("--models needs at least one model name");
          }
        }
        case "--tokens" -> patch.put("tokensPerAnswer", integer(name, value));
        case "--ttft-ms" -> patch.put("timeToFirstTokenMs", integer(name, value));
        case "--itl-ms" -> patch.put("interTokenMs", integer(name, value));
        case "--max-num-seqs" -> patch.put("maxNumSeqs", integer(name, value));
        case "--max-model-len" -> patch.put("maxModelLen", integer(name, value));
        case "--embedding-dim" -> patch.put("embeddingDimensions", integer(name, value));
        case "--error-rate" -> patch.put("errorRate", decimal(name, value));
        case "--unavailable-rate" -> patch.put("unavailableRate", decimal(name, value));
        case "--hang-rate" -> patch.put("hangRate", decimal(name, value));
        case "--drop-rate" -> patch.put("dropMidStreamRate", decimal(name, value));
        case "--slow-start-ms" -> patch.put("slowStartMs", integer(name, value));
        case "--seed" -> patch.put("seed", longValue(name, value));
        case "--engine" -> patch.put("engine", value.trim());
        case "--kv-cache-tokens" -> patch.put("kvCacheTokens", integer(name, value));
        case "--max-num-batched-tokens" -> patch.put("maxNumBatchedTokens", integer(name, value));
        case "--step-base-ms" -> patch.put("stepBaseMs", decimal(name, value));
        case "--step-per-seq-ms" -> patch.put("stepPerSeqMs", decimal(name, value));
        case "--prefill-per-token-ms" -> patch.put("prefillPerTokenMs", decimal(name, value));
        default -> throw new IllegalArgumentException("unknown option " + name);
      }
    }
    // merge() checks the ranges; its message names the setting that is out of range.
    SimulatorSettings settings;
    try {
      settings = SimulatorSettings.defaults(models).merge(patch);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("invalid value: " + e.getMessage());
    }
    return new Options(port, host, settings, apiKey);
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }

  private static int integer(String name, String value) {
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " needs an integer, got '" + value + "'");
    }
  }

  private static long longValue(String name, String value) {
    try {
      return Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " needs an integer, got '" + value + "'");
    }
  }

  private static double decimal(String name, String value) {
    try {
      return Double.parseDouble(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " needs a number, got '" + value + "'");
    }
  }
}
