package io.inferencegateway.ingress;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Map;
import java.util.Set;

/**
 * The toolkit's request rules, checked before anything goes upstream. Returns the first problem as a 400 naming the
 * offending {@code param} (OpenAI reports one), or null when the request is acceptable. Fields it does not know are
 * left alone: they go to vLLM untouched.
 */
public final class RequestValidator {

  private static final Set<String> TOOL_CHOICES = Set.of("none", "auto", "required");

  private RequestValidator() {}

  public static IngressFailure validate(Operation op, JsonObject body) {
    IngressFailure f = model(body);
    if (f != null) {
      return f;
    }
    return switch (op) {
      case CHAT -> chat(body);
      case COMPLETIONS -> completions(body);
      case EMBEDDINGS -> embeddings(body);
    };
  }

  private static IngressFailure model(JsonObject body) {
    Object model = body.getValue("model");
    if (!(model instanceof String s) || s.isBlank()) {
      return IngressFailure.invalid("model", "`model` is required and must be a non-empty string.");
    }
    return null;
  }

  private static IngressFailure chat(JsonObject body) {
    Object messages = body.getValue("messages");
    if (!(messages instanceof JsonArray list) || list.isEmpty()) {
      return IngressFailure.invalid("messages", "`messages` is required and must be a non-empty array.");
    }
    for (int i = 0; i < list.size(); i++) {
      IngressFailure f = message(list.getValue(i), i);
      if (f != null) {
        return f;
      }
    }
    IngressFailure f = common(body);
    if (f != null) {
      return f;
    }
    f = intRange(body, "top_logprobs", 0, 20);
    if (f != null) {
      return f;
    }
    if (body.getValue("top_logprobs") != null && !Boolean.TRUE.equals(body.getValue("logprobs"))) {
      return IngressFailure.invalid("top_logprobs", "`top_logprobs` may only be set when `logprobs` is true.");
    }
    if (body.containsKey("logprobs") && body.getValue("logprobs") != null && !(body.getValue("logprobs") instanceof Boolean)) {
      return IngressFailure.invalid("logprobs", "`logprobs` must be a boolean.");
    }
    f = intRange(body, "max_completion_tokens", 1, Integer.MAX_VALUE);
    if (f != null) {
      return f;
    }
    f = toolChoice(body.getValue("tool_choice"));
    if (f != null) {
      return f;
    }
    return tools(body.getValue("tools"));
  }

  /** One chat message; its name ({@code messages[i]}) is only built for a refusal. */
  private static IngressFailure message(Object m, int i) {
    if (!(m instanceof JsonObject msg)) {
      String at = "messages[" + i + "]";
      return IngressFailure.invalid(at, at + " must be an object with `role` and `content`.");
    }
    Object role = msg.getValue("role");
    if (!(role instanceof String r) || r.isBlank()) {
      String at = "messages[" + i + "]";
      return IngressFailure.invalid(at + ".role", at + ".role is required and must be a non-empty string.");
    }
    Object content = msg.getValue("content");
    if (content == null && !msg.containsKey("content")) {
      String at = "messages[" + i + "]";
      return IngressFailure.invalid(at + ".content", at + ".content is required.");
    }
    boolean toolCallsOnly = content == null && "assistant".equals(r) && msg.getValue("tool_calls") instanceof JsonArray;
    if (!(content instanceof String || content instanceof JsonArray || toolCallsOnly)) {
      String at = "messages[" + i + "]";
      return IngressFailure.invalid(at + ".content", at + ".content must be a string or an array of content parts.");
    }
    return null;
  }

  private static IngressFailure completions(JsonObject body) {
    Object prompt = body.getValue("prompt");
    boolean ok = prompt instanceof String
        || (prompt instanceof JsonArray a && !a.isEmpty() && a.stream().allMatch(p -> p instanceof String
        || p instanceof Number || (p instanceof JsonArray inner && inner.stream().allMatch(t -> t instanceof Number))));
    if (!ok) {
      return IngressFailure.invalid("prompt",
          "`prompt` is required: a string, an array of strings, or an array of token arrays.");
    }
    IngressFailure f = common(body);
    if (f != null) {
      return f;
    }
    Object logprobs = body.getValue("logprobs");
    if (logprobs != null && !(logprobs instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())
        && n.intValue() >= 0 && n.intValue() <= 20)) {
      return IngressFailure.invalid("logprobs", "`logprobs` must be an integer between 0 and 20.");
    }
    return null;
  }

  private static IngressFailure embeddings(JsonObject body) {
    Object input = body.getValue("input");
    boolean ok = (input instanceof String s && !s.isEmpty())
        || (input instanceof JsonArray a && !a.isEmpty() && a.stream().allMatch(p -> p instanceof String
        || p instanceof Number || (p instanceof JsonArray inner && !inner.isEmpty())));
    if (!ok) {
      return IngressFailure.invalid("input", "`input` is required: a non-empty string or array.");
    }
    Object format = body.getValue("encoding_format");
    if (format != null && !"float".equals(format) && !"base64".equals(format)) {
      return IngressFailure.invalid("encoding_format", "`encoding_format` must be `float` or `base64`.");
    }
    return null;
  }

  /** Rules shared by chat and text completions. */
  private static IngressFailure common(JsonObject body) {
    IngressFailure f;
    if ((f = numberRange(body, "temperature", 0, 2)) != null
        || (f = numberRange(body, "top_p", 0, 1)) != null
        || (f = numberRange(body, "frequency_penalty", -2, 2)) != null
        || (f = numberRange(body, "presence_penalty", -2, 2)) != null
        || (f = intRange(body, "max_tokens", 1, Integer.MAX_VALUE)) != null
        || (f = intRange(body, "n", 1, 128)) != null) {
      return f;
    }
    Object stream = body.getValue("stream");
    if (stream != null && !(stream instanceof Boolean)) {
      return IngressFailure.invalid("stream", "`stream` must be a boolean.");
    }
    Object stop = body.getValue("stop");
    if (stop != null && !(stop instanceof String)
        && !(stop instanceof JsonArray a && a.stream().allMatch(s -> s instanceof String))) {
      return IngressFailure.invalid("stop", "`stop` must be a string or an array of strings.");
    }
    Object bias = body.getValue("logit_bias");
    if (bias != null) {
      if (!(bias instanceof JsonObject map)) {
        return IngressFailure.invalid("logit_bias", "`logit_bias` must be an object of token ids to numbers.");
      }
      for (Map.Entry<String, Object> e : map) {
        if (!(e.getValue() instanceof Number n) || n.doubleValue() < -100 || n.doubleValue() > 100) {
          return IngressFailure.invalid("logit_bias", "`logit_bias` values must be numbers between -100 and 100.");
        }
      }
    }
    Object streamOptions = body.getValue("stream_options");
    if (streamOptions != null && !(streamOptions instanceof JsonObject)) {
      return IngressFailure.invalid("stream_options", "`stream_options` must be an object.");
    }
    return null;
  }

  private static IngressFailure toolChoice(Object choice) {
    if (choice == null) {
      return null;
    }
    if (choice instanceof String s) {
      return TOOL_CHOICES.contains(s) ? null
          : IngressFailure.invalid("tool_choice", "`tool_choice` must be `none`, `auto`, `required` or a function choice.");
    }
    if (choice instanceof JsonObject o && "function".equals(o.getValue("type"))
        && o.getValue("function") instanceof JsonObject fn && fn.getValue("name") instanceof String n && !n.isBlank()) {
      return null;
    }
    return IngressFailure.invalid("tool_choice",
        "`tool_choice` must be `none`, `auto`, `required` or {\"type\": \"function\", \"function\": {\"name\": ...}}.");
  }

  private static IngressFailure tools(Object tools) {
    if (tools == null) {
      return null;
    }
    if (!(tools instanceof JsonArray list)) {
      return IngressFailure.invalid("tools", "`tools` must be an array.");
    }
    for (int i = 0; i < list.size(); i++) {
      Object t = list.getValue(i);
      if (!(t instanceof JsonObject o && "function".equals(o.getValue("type"))
          && o.getValue("function") instanceof JsonObject fn && fn.getValue("name") instanceof String n && !n.isBlank())) {
        return IngressFailure.invalid("tools[" + i + "]",
            "tools[" + i + "] must be {\"type\": \"function\", \"function\": {\"name\": ...}}.");
      }
    }
    return null;
  }

  private static IngressFailure numberRange(JsonObject body, String field, double min, double max) {
    Object v = body.getValue(field);
    if (v == null) {
      return null;
    }
    if (!(v instanceof Number n) || n.doubleValue() < min || n.doubleValue() > max || Double.isNaN(n.doubleValue())) {
      return IngressFailure.invalid(field, "`" + field + "` must be a number between " + fmt(min) + " and " + fmt(max) + ".");
    }
    return null;
  }

  private static IngressFailure intRange(JsonObject body, String field, long min, long max) {
    Object v = body.getValue(field);
    if (v == null) {
      return null;
    }
    // the double comparisons first: a BigInteger beyond 64 bits wraps in longValue() (2^64 + 5 would pass as 5)
    if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue()) || n.doubleValue() < min
        || n.doubleValue() > max || n.longValue() < min || n.longValue() > max) {
      String range = max == Integer.MAX_VALUE ? "at least " + min : "between " + min + " and " + max;
      return IngressFailure.invalid(field, "`" + field + "` must be an integer " + range + ".");
    }
    return null;
  }

  private static String fmt(double d) {
    return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
  }
}
