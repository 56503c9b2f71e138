package io.inferencegateway.simulator;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A validated inference request, reduced to what the simulator needs.
 *
 * <p>Prompt token estimate (the simulator has no tokenizer; one whitespace-separated word is one token):
 * <ul>
 *   <li>chat: the words of every message's text content, plus 4 per message for the role and the
 *       template's separators, plus 2 for the generation prompt; an assistant message being continued
 *       ({@code continue_final_message}) counts 2 plus its words and takes the generation prompt's place;</li>
 *   <li>completions and embeddings: the words of each text plus 1 for the BOS token; a prompt given
 *       as token ids counts its ids.</li>
 * </ul>
 *
 * <p>Answers: {@code tokensPerAnswer} words chosen by the prompt (see {@link Words}); a continuation
 * produces only the words after those it already holds, so first leg plus continuation equals the
 * unbroken answer, with {@code max_tokens} of the continuation being what is left of the original budget.
 */
final class InferenceRequest {

  final Endpoint endpoint;
  final String model;
  /** Prompt tokens per prompt; chat and a single completion prompt have one entry. */
  final int[] promptTokens;
  /** Generated tokens per prompt (every one of its n choices gets the same count). */
  final int[] completionTokens;
  /** "stop" or "length" per prompt. */
  final String[] finishReasons;
  final int n;
  final boolean stream;
  final boolean includeUsage;
  final boolean continuousUsage;
  /** Embeddings only: the texts (or rendered token-id lists) to embed, and the vector size. */
  final List<String> inputs;
  final int dimensions;
  final boolean base64;
  /** Per prompt: where its answer starts in the word list, and how many answer words it already holds. */
  final int[] answerStart;
  final int[] answered;
  /** The faithful engine only: every prompt's token ids, one after the other; null otherwise. */
  final int[] tokenIds;
  /** vLLM's {@code cache_salt}, or null: salts the prefix-cache hashes so only equal salts share blocks. */
  final String cacheSalt;

  private InferenceRequest(Endpoint endpoint, String model, int[] promptTokens, int[] completionTokens,
      String[] finishReasons, int n, boolean stream, boolean includeUsage, boolean continuousUsage,
      List<String> inputs, int dimensions, boolean base64, int[] answerStart, int[] answered, int[] tokenIds,
      String cacheSalt) {
    this.endpoint = endpoint;
    this.model = model;
    this.promptTokens = promptTokens;
    this.completionTokens = completionTokens;
    this.finishReasons = finishReasons;
    this.n = n;
    this.stream = stream;
    this.includeUsage = includeUsage;
    this.continuousUsage = continuousUsage;
    this.inputs = inputs;
    this.dimensions = dimensions;
    this.base64 = base64;
    this.answerStart = answerStart;
    this.answered = answered;
    this.tokenIds = tokenIds;
    this.cacheSalt = cacheSalt;
  }

  /** The longest answer of any prompt: the number of decode steps the request needs. */
  int longestCompletion() {
    int longest = 0;
    for (int c : completionTokens) {
      longest = Math.max(longest, c);
    }
    return longest;
  }

  int totalPromptTokens() {
    int sum = 0;
    for (int p : promptTokens) {
      sum += p;
    }
    return sum;
  }

  int totalCompletionTokens() {
    int sum = 0;
    for (int c : completionTokens) {
      sum += c;
    }
    return sum * n;
  }

  /**
   * Parses and validates a request body the way vLLM's OpenAI server does.
   *
   * @param wantIds collect the prompt's token ids (the faithful engine's prefix cache needs them)
   * @throws ApiError with vLLM's status, type and message when the request is refused
   */
  static InferenceRequest parse(Endpoint endpoint, Buffer body, SimulatorSettings settings, Set<String> models,
      boolean wantIds) {
    JsonObject json;
    try {
      json = new JsonObject(body);
    } catch (DecodeException | ClassCastException e) {
      throw ApiError.badRequest("JSON decode error: the request body must be a JSON object", null);
    }
    try {
      return switch (endpoint) {
        case CHAT -> chat(json, settings, models, wantIds);
        case COMPLETIONS -> completion(json, settings, models, wantIds);
        case EMBEDDINGS -> embedding(json, settings, models);
      };
    } catch (ClassCastException e) {
      // A field of the wrong JSON type that a typed getter tripped on.
      throw ApiError.badRequest("Invalid request: a field has the wrong type (" + e.getMessage() + ")", null);
    }
  }

  static InferenceRequest parse(Endpoint endpoint, Buffer body, SimulatorSettings settings, Set<String> models) {
    return parse(endpoint, body, settings, models, false);
  }

  private static InferenceRequest chat(JsonObject json, SimulatorSettings settings, Set<String> models,
      boolean wantIds) {
    Object rawMessages = json.getValue("messages");
    if (rawMessages == null) {
      throw ApiError.badRequest("Field required: messages", "messages");
    }
    if (!(rawMessages instanceof JsonArray messages) || messages.isEmpty()) {
      throw ApiError.badRequest("messages must be a non-empty list of messages", "messages");
    }
    for (int i = 0; i < messages.size(); i++) {
      if (!(messages.getValue(i) instanceof JsonObject message)) {
        throw ApiError.badRequest("messages[" + i + "] must be an object", "messages");
      }
      if (!(message.getValue("role") instanceof String)) {
        throw ApiError.badRequest("messages[" + i + "].role is required", "messages");
      }
    }
    Boolean continueFinal = json.getBoolean("continue_final_message");
    Boolean addGenerationPrompt = json.getBoolean("add_generation_prompt");
    // vLLM's request validator sees only what was sent; the chat template then refuses continuing a
    // message while also opening a new one, which is what add_generation_prompt's default asks for.
    if (Boolean.TRUE.equals(continueFinal) && Boolean.TRUE.equals(addGenerationPrompt)) {
      throw ApiError.badRequest(
          "Cannot set both `continue_final_message` and `add_generation_prompt` to True.", null);
    }
    boolean continuing = Boolean.TRUE.equals(continueFinal);
    if (continuing && addGenerationPrompt == null) {
      throw ApiError.badRequest("continue_final_message and add_generation_prompt are not compatible. Use"
          + " continue_final_message when you want the model to continue the final message, and"
          + " add_generation_prompt when you want to add a header that will prompt it to start a new assistant"
          + " message instead.", null);
    }
    if (continuing && !"assistant".equals(messages.getJsonObject(messages.size() - 1).getString("role"))) {
      throw ApiError.badRequest("continue_final_message needs the last message to be an assistant message"
          + " to continue; got role '" + messages.getJsonObject(messages.size() - 1).getString("role") + "'.",
          "messages");
    }
    Integer maxTokens = json.getInteger("max_completion_tokens");
    if (maxTokens == null) {
      maxTokens = json.getInteger("max_tokens");
    }
    Common c = common(json, maxTokens);
    String model = model(json, models);
    Prompt prompt = Prompt.chat(messages, continuing, !Boolean.FALSE.equals(addGenerationPrompt), wantIds);
    int[] prompts = {prompt.tokens()};
    int[] answered = {prompt.answered()};
    int[] completion = new int[1];
    String[] finish = new String[1];
    plan(settings, prompts, answered, maxTokens, completion, finish);
    return new InferenceRequest(Endpoint.CHAT, model, prompts, completion, finish, c.n, c.stream,
        c.includeUsage, c.continuousUsage, null, 0, false, new int[] {prompt.start()}, answered, prompt.ids(),
        c.cacheSalt);
  }

  private static InferenceRequest completion(JsonObject json, SimulatorSettings settings, Set<String> models,
      boolean wantIds) {
    Object raw = json.getValue("prompt");
    if (raw == null || (raw instanceof String s && s.isEmpty())) {
      throw ApiError.badRequest("Either prompt or prompt_embeds must be provided and non-empty.", "prompt");
    }
    List<Prompt> prompts = new ArrayList<>(1);
    if (raw instanceof String s) {
      prompts.add(Prompt.text(s, wantIds));
    } else if (raw instanceof JsonArray a && !a.isEmpty()) {
      Object first = a.getValue(0);
      if (first instanceof Number) {
        prompts.add(Prompt.tokenIds(tokenIds(a, "prompt"), wantIds));
      } else {
        for (int i = 0; i < a.size(); i++) {
          Object p = a.getValue(i);
          if (p instanceof String s) {
            prompts.add(Prompt.text(s, wantIds));
          } else if (p instanceof JsonArray ids && !ids.isEmpty()) {
            prompts.add(Prompt.tokenIds(tokenIds(ids, "prompt"), wantIds));
          } else {
            throw ApiError.badRequest("prompt must be a string, a list of strings, a list of token ids"
                + " or a list of lists of token ids", "prompt");
          }
        }
      }
    } else {
      throw ApiError.badRequest("prompt must be a string, a list of strings, a list of token ids"
          + " or a list of lists of token ids", "prompt");
    }
    // vLLM's CompletionRequest defaults max_tokens to 16, like OpenAI's legacy API.
    Integer maxTokens = json.containsKey("max_tokens") ? json.getInteger("max_tokens") : Integer.valueOf(16);
    Common c = common(json, maxTokens);
    String model = model(json, models);
    int count = prompts.size();
    int[] promptTokens = new int[count];
    int[] starts = new int[count];
    int[] answered = new int[count];
    Prompt.IntList ids = wantIds ? new Prompt.IntList(64) : null;
    for (int i = 0; i < count; i++) {
      Prompt p = prompts.get(i);
      promptTokens[i] = p.tokens();
      starts[i] = p.start();
      answered[i] = p.answered();
      if (ids != null) {
        ids.addAll(p.ids());
      }
    }
    int[] completion = new int[count];
    String[] finish = new String[count];
    plan(settings, promptTokens, answered, maxTokens, completion, finish);
    return new InferenceRequest(Endpoint.COMPLETIONS, model, promptTokens, completion, finish, c.n, c.stream,
        c.includeUsage, c.continuousUsage, null, 0, false, starts, answered, ids == null ? null : ids.toArray(),
        c.cacheSalt);
  }

  private static InferenceRequest embedding(JsonObject json, SimulatorSettings settings, Set<String> models) {
    Object raw = json.getValue("input");
    List<String> inputs = new ArrayList<>(1);
    List<Integer> tokens = new ArrayList<>(1);
    if (raw instanceof String s) {
      inputs.add(s);
      tokens.add(Words.count(s) + 1);
    } else if (raw instanceof JsonArray a && !a.isEmpty()) {
      if (a.getValue(0) instanceof Number) {
        inputs.add(tokenIds(a, "input").getList().toString());
        tokens.add(a.size());
      } else {
        for (int i = 0; i < a.size(); i++) {
          Object p = a.getValue(i);
          if (p instanceof String s) {
            inputs.add(s);
            tokens.add(Words.count(s) + 1);
          } else if (p instanceof JsonArray ids && !ids.isEmpty()) {
            inputs.add(tokenIds(ids, "input").getList().toString());
            tokens.add(ids.size());
          } else {
            throw ApiError.badRequest("input must be a string, a list of strings, a list of token ids"
                + " or a list of lists of token ids", "input");
          }
        }
      }
    } else if (raw == null) {
      throw ApiError.badRequest("Field required: input", "input");
    } else {
      throw ApiError.badRequest("input must be a string, a list of strings, a list of token ids"
          + " or a list of lists of token ids", "input");
    }
    String model = model(json, models);
    for (int t : tokens) {
      if (t > settings.maxModelLen()) {
        throw ApiError.badRequest("This model's maximum context length is " + settings.maxModelLen()
            + " tokens. However, you requested " + t + " tokens in the input for embedding generation."
            + " Please reduce the length of the input.", null);
      }
    }
    String format = json.getString("encoding_format", "float");
    if (!"float".equals(format) && !"base64".equals(format)) {
      throw ApiError.badRequest("encoding_format must be 'float' or 'base64'", "encoding_format");
    }
    Integer dims = json.getInteger("dimensions");
    int dimensions = settings.embeddingDimensions();
    if (dims != null) {
      if (dims < 1 || dims > dimensions) {
        throw ApiError.badRequest("dimensions must be between 1 and " + dimensions, "dimensions");
      }
      dimensions = dims;
    }
    int[] promptTokens = tokens.stream().mapToInt(Integer::intValue).toArray();
    return new InferenceRequest(Endpoint.EMBEDDINGS, model, promptTokens, new int[promptTokens.length],
        null, 1, false, false, false, inputs, dimensions, "base64".equals(format), null, null, null, null);
  }

  private record Common(int n, boolean stream, boolean includeUsage, boolean continuousUsage, String cacheSalt) {
  }

  /** The checks vLLM's request models make before the model name is looked at. */
  private static Common common(JsonObject json, Integer maxTokens) {
    if (maxTokens != null && maxTokens < 1) {
      throw ApiError.badRequest("max_tokens must be at least 1, got " + maxTokens + ".", "max_tokens");
    }
    Integer n = json.getInteger("n");
    if (n == null) {
      n = 1;
    } else if (n < 1) {
      throw ApiError.badRequest("n must be at least 1, got " + n + ".", "n");
    }
    boolean stream = Boolean.TRUE.equals(json.getBoolean("stream"));
    JsonObject options = json.getJsonObject("stream_options");
    if (options != null && !options.isEmpty() && !stream) {
      throw ApiError.badRequest("Stream options can only be defined when `stream=True`.", "stream_options");
    }
    // vLLM's StreamOptions defaults include_usage to true once stream_options is present.
    boolean includeUsage = options != null && !Boolean.FALSE.equals(options.getBoolean("include_usage", true));
    boolean continuous = includeUsage && Boolean.TRUE.equals(options.getBoolean("continuous_usage_stats"));
    Object salt = json.getValue("cache_salt");
    if (salt != null && !(salt instanceof String s && !s.isEmpty())) {
      throw ApiError.badRequest("Parameter 'cache_salt' must be a non-empty string if provided.", "cache_salt");
    }
    return new Common(n, stream, includeUsage, continuous, (String) salt);
  }

  private static String model(JsonObject json, Set<String> models) {
    Object raw = json.getValue("model");
    if (raw == null) {
      throw ApiError.badRequest("Field required: model", "model");
    }
    if (!(raw instanceof String model)) {
      throw ApiError.badRequest("model must be a string", "model");
    }
    if (!models.contains(model)) {
      throw ApiError.notFound("The model `" + model + "` does not exist.", "model");
    }
    return model;
  }

  /**
   * Fills the generated token count and finish reason per prompt, with vLLM's context-length check. A
   * prompt that already holds {@code answered} answer words gets the rest of the answer, so a continuation
   * whose budget is the original budget minus what was generated stops where the original would have.
   */
  private static void plan(SimulatorSettings settings, int[] prompts, int[] answered, Integer maxTokens,
      int[] completion, String[] finish) {
    int maxLen = settings.maxModelLen();
    for (int i = 0; i < prompts.length; i++) {
      int prompt = prompts[i];
      int limit;
      if (maxTokens == null) {
        if (prompt >= maxLen) {
          throw ApiError.badRequest("This model's maximum context length is " + maxLen + " tokens. However,"
              + " you requested " + prompt + " tokens in the messages, Please reduce the length of the"
              + " messages.", null);
        }
        limit = maxLen - prompt;
      } else {
        if ((long) prompt + maxTokens > maxLen) {
          throw ApiError.badRequest("This model's maximum context length is " + maxLen + " tokens. However,"
              + " you requested " + ((long) prompt + maxTokens) + " tokens (" + prompt + " in the messages, "
              + maxTokens + " in the completion). Please reduce the length of the messages or completion.",
              null);
        }
        limit = maxTokens;
      }
      int answer = Math.max(0, settings.tokensPerAnswer() - answered[i]);
      completion[i] = Math.min(answer, limit);
      finish[i] = limit < answer ? "length" : "stop";
    }
  }

  private static JsonArray tokenIds(JsonArray ids, String param) {
    for (int i = 0; i < ids.size(); i++) {
      if (!(ids.getValue(i) instanceof Number)) {
        throw ApiError.badRequest(param + " token ids must be integers", param);
      }
    }
    return ids;
  }
}
