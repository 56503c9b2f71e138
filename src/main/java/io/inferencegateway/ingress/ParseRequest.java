package io.inferencegateway.ingress;

import io.inferencegateway.routing.ModelRegistry;
import io.inferencegateway.routing.ModelRoute;
import io.inferencegateway.routing.PrefixAffinity;
import io.inferencegateway.routing.RouteHints;
import io.inferencegateway.store.ApiKeyRow;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Set;

/**
 * Stage "parse and validate": the body must be a JSON object that follows the toolkit's rules, for a model the gateway
 * serves and the key may use. Decides what goes upstream (streams always ask vLLM for the usage chunk) and the
 * affinity key the router may use.
 */
final class ParseRequest {

  private static final Buffer INCLUDE_USAGE = Buffer.buffer(",\"stream_options\":{\"include_usage\":true}");

  private final ModelRegistry registry;
  private final int affinityChars;
  private final boolean storeContent;
  private final int contentMaxChars;
  private final boolean resume;

  ParseRequest(ModelRegistry registry, int affinityChars, boolean storeContent, int contentMaxChars) {
    this(registry, affinityChars, storeContent, contentMaxChars, true);
  }

  ParseRequest(ModelRegistry registry, int affinityChars, boolean storeContent, int contentMaxChars, boolean resume) {
    this.resume = resume;
    this.registry = registry;
    this.affinityChars = affinityChars;
    this.storeContent = storeContent;
    this.contentMaxChars = contentMaxChars;
  }

  Future<Void> apply(ProxyExchange ex, Buffer raw) {
    try {
      ex.parsed = parse(ex, raw, ex.request.getHeader("x-session-id"));
      return Future.succeededFuture();
    } catch (IngressFailure f) {
      return Future.failedFuture(f);
    }
  }

  /** The parsed request; sets {@code ex.model} once the model is known. Throws {@link IngressFailure} if refused. */
  ParsedRequest parse(ProxyExchange ex, Buffer raw, String sessionId) {
    if (raw.length() == 0) {
      throw IngressFailure.badJson("The request body is empty; expected a JSON object.");
    }
    JsonObject json;
    try {
      json = new JsonObject(raw);
    } catch (DecodeException | ClassCastException e) {
      throw IngressFailure.badJson("The request body is not valid JSON: " + shortMessage(e));
    }
    IngressFailure invalid = RequestValidator.validate(ex.op, json);
    if (invalid != null) {
      throw invalid;
    }
    String model = json.getString("model");
    ModelRoute route = registry.model(model);
    if (route == null) {
      throw IngressFailure.modelNotFound(model);
    }
    ex.model = model;
    ApiKeyRow key = ex.key;
    if (key.models() != null && !key.models().contains(model)) {
      throw IngressFailure.modelNotFound(model);
    }
    boolean stream = ex.op.canStream() && Boolean.TRUE.equals(json.getValue("stream"));
    boolean clientWantsUsage = false;
    Buffer upstreamBody = raw;
    if (stream) {
      JsonObject options = json.getValue("stream_options") instanceof JsonObject o ? o : null;
      clientWantsUsage = options != null && Boolean.TRUE.equals(options.getValue("include_usage"));
      if (!clientWantsUsage) {
        // ask vLLM for the usage chunk so the record has token counts; the relay drops it again for this client
        upstreamBody = options == null ? withIncludeUsage(raw) : null;
        if (upstreamBody == null) {
          json.put("stream_options", (options == null ? new JsonObject() : options).put("include_usage", true));
          upstreamBody = json.toBuffer();
        }
      }
    }
    RouteHints hints = route.affinity() && ex.op != Operation.EMBEDDINGS ? affinity(model, sessionId, json)
        : RouteHints.NONE;
    boolean resumable = stream && resume && StreamResume.resumable(ex.op, json)
        && !"off".equalsIgnoreCase(ex.request.getHeader(StreamResume.HEADER));
    return new ParsedRequest(route, stream, clientWantsUsage, upstreamBody, hints, storeContent ? input(ex.op, json) : null,
        maxTokens(json), resumable);
  }

  /** The request's token budget ({@code max_completion_tokens} first, as OpenAI defines), -1 when absent. */
  static int maxTokens(JsonObject json) {
    for (String field : new String[] {"max_completion_tokens", "max_tokens"}) {
      if (json.getValue(field) instanceof Number n && n.longValue() > 0) {
        return (int) Math.min(Integer.MAX_VALUE, n.longValue());
      }
    }
    return -1;
  }

  /**
   * The client's body with {@code "stream_options":{"include_usage":true}} spliced in before its closing brace: the
   * body is otherwise forwarded byte for byte, and a long prompt is not re-encoded. Null if the body does not end
   * with a brace (then the caller re-encodes).
   */
  static Buffer withIncludeUsage(Buffer raw) {
    int end = raw.length() - 1;
    while (end >= 0 && Character.isWhitespace(raw.getByte(end))) {
      end--;
    }
    if (end < 1 || raw.getByte(end) != '}') {
      return null;
    }
    return Buffer.buffer(raw.length() + INCLUDE_USAGE.length())
        .appendBuffer(raw, 0, end).appendBuffer(INCLUDE_USAGE).appendBuffer(raw, end, raw.length() - end);
  }

  /**
   * The affinity key: a session header or the OpenAI {@code user} field keeps a conversation on one replica; otherwise
   * the model and the conversation's messages up to and including its first user message (each cut to
   * {@code affinityPrefixChars}): the system prompt and the opening question, which stay the same as the conversation
   * grows turn by turn, so every turn meets the replica whose prefix cache holds the turns before it. A completion's
   * key is the start of its prompt.
   */
  RouteHints affinity(String model, String session, JsonObject json) {
    Object user = json.getValue("user");
    StringBuilder key = new StringBuilder(Math.min(affinityChars, 1024) + 64).append(model).append('\u0000');
    if (session != null && !session.isBlank()) {
      key.append("s:").append(session);
    } else if (user instanceof String u && !u.isBlank()) {
      key.append("u:").append(u);
    } else if (json.getValue("messages") instanceof JsonArray messages) {
      for (int i = 0; i < messages.size(); i++) {
        if (messages.getValue(i) instanceof JsonObject m) {
          Object role = m.getValue("role");
          key.append(role).append(':');
          Object content = m.getValue("content");
          String text = content instanceof String t ? t : String.valueOf(content);
          key.append(text, 0, Math.min(text.length(), affinityChars)).append('\n');
          if ("user".equals(role)) {
            break;
          }
        }
      }
    } else {
      Object prompt = json.getValue("prompt");
      key.append(prompt instanceof String text ? text : String.valueOf(prompt));
      if (key.length() > affinityChars) {
        key.setLength(affinityChars);
      }
    }
    return new RouteHints(PrefixAffinity.hash(key), true, Set.of());
  }

  private String input(Operation op, JsonObject json) {
    Object prompt = switch (op) {
      case CHAT -> json.getValue("messages");
      case COMPLETIONS -> json.getValue("prompt");
      case EMBEDDINGS -> json.getValue("input");
    };
    return truncate(prompt instanceof String s ? s : String.valueOf(prompt), contentMaxChars);
  }

  static String truncate(String s, int max) {
    return s == null || s.length() <= max ? s : s.substring(0, max);
  }

  private static String shortMessage(Exception e) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    int nl = m.indexOf('\n');
    m = nl > 0 ? m.substring(0, nl) : m;
    return m.length() > 200 ? m.substring(0, 200) : m;
  }
}
