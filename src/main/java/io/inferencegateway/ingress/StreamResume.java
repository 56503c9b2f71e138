package io.inferencegateway.ingress;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A stream the client never sees break: what was relayed so far, and the continuation that another replica of the
 * model (same weights) is asked for when the upstream breaks after tokens reached the client.
 *
 * <p>Chat completions are continued with the original request plus an assistant message holding the text so far,
 * with vLLM's {@code continue_final_message: true} and {@code add_generation_prompt: false}; completions with the
 * prompt followed by the text so far. The budget ({@code max_tokens}, {@code max_completion_tokens}; 16 for
 * completions without one, vLLM's default) shrinks by the tokens already relayed (one per content event, as vLLM
 * streams them). The continuation's events are relayed under the original stream's id, {@code created} and model,
 * without a second role delta, and its usage chunk is rewritten to cover the whole answer: the original prompt and
 * the completion tokens of every leg.
 *
 * <p>Not resumable: {@code n} &gt; 1, {@code logprobs}/{@code top_logprobs}, {@code echo}, {@code best_of}, a
 * completions prompt that is not one string (decided once, see {@link #resumable}), tool-call deltas or log
 * probabilities already relayed, a spent budget. An error event of vLLM in the middle of a stream is held back (with
 * the {@code [DONE]} after it) and the stream resumed as if it had broken. Used as the {@link SseRelay.EventTap} of every leg of one stream, on
 * one event loop.
 */
final class StreamResume implements SseRelay.EventTap {

  /** A request header: {@code x-gateway-resume: off} keeps this request's broken stream from being resumed. */
  static final String HEADER = "x-gateway-resume";

  private static final Buffer DROP = Buffer.buffer();

  private final boolean chat;
  private byte[] text = new byte[256];
  private int textLength;
  private int tokens;
  private int tokensBeforeLeg;
  private int legs = 1;
  private boolean finished;
  private String notResumable;
  private String upstreamError;
  private String id;
  private Object created;
  private String model;
  private final List<Long> replicas = new ArrayList<>();

  StreamResume(Operation op) {
    this.chat = op == Operation.CHAT;
  }

  /** Whether the request's fields allow a continuation at all (its stream may still turn out not resumable). */
  static boolean resumable(Operation op, JsonObject json) {
    if (op == Operation.EMBEDDINGS) {
      return false;
    }
    if (json.getValue("n") instanceof Number n && n.intValue() != 1) {
      return false;
    }
    if (json.getValue("best_of") instanceof Number b && b.intValue() > 1) {
      return false;
    }
    Object logprobs = json.getValue("logprobs");
    if (Boolean.TRUE.equals(json.getValue("echo")) || (logprobs != null && !Boolean.FALSE.equals(logprobs))
        || json.getValue("top_logprobs") != null || json.getValue("prompt_logprobs") != null) {
      return false;
    }
    return op == Operation.CHAT ? json.getValue("messages") instanceof JsonArray
        : json.getValue("prompt") instanceof String;
  }

  /** Notes one relayed event; in a continuation leg, returns it rewritten (or {@code DROP}). */
  @Override
  public Buffer event(Buffer data, SseRelay.Bytes bytes, int start, int end) {
    if (legs == 1 && id != null && scanned(bytes, start, end)) {
      return null; // the usual token event of the first leg: read without parsing the JSON
    }
    JsonObject event = SseRelay.parseData(data, bytes, start, end);
    if (event == null) {
      return upstreamError != null ? DROP : null; // [DONE] after an error event is held back with it
    }
    if (!(event.getValue("choices") instanceof JsonArray choices)) {
      if (event.getValue("error") instanceof JsonObject err) {
        upstreamError = err.getString("message", err.encode()); // vLLM failed mid-stream: resumed like a break
        return DROP;
      }
      return null;
    }
    if (id == null) {
      id = event.getString("id");
      created = event.getValue("created");
      model = event.getString("model");
    }
    if (legs == 1) {
      observe(choices);
      return null;
    }
    if (id != null) {
      event.put("id", id);
    }
    if (created != null) {
      event.put("created", created);
    }
    if (model != null) {
      event.put("model", model);
    }
    if (choices.isEmpty()) {
      if (event.getValue("usage") instanceof JsonObject usage) {
        event.put("usage", combinedUsage(usage));
      }
    } else if (chat && choices.getValue(0) instanceof JsonObject choice
        && choice.getValue("delta") instanceof JsonObject delta && delta.containsKey("role")) {
      delta.remove("role"); // the client had its role delta from the first leg
      boolean empty = !(delta.getValue("content") instanceof String c) || c.isEmpty();
      if (empty && delta.getValue("tool_calls") == null && choice.getValue("finish_reason") == null) {
        return DROP;
      }
    }
    observe(choices);
    return Buffer.buffer(16 + end - start).appendString("data: ").appendBuffer(event.toBuffer()).appendString("\n\n");
  }

  private static final byte[] CHOICES = "choices".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CONTENT = "content".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] TEXT = "text".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] LOGPROBS = "logprobs".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] FINISH = "finish_reason".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] TOOL_CALLS = "tool_calls".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] ERROR = "error".getBytes(StandardCharsets.US_ASCII);

  /**
   * Notes a plain token event (one choice, text without escapes, no tool calls or log probabilities) from its bytes,
   * as vLLM writes them, and passes the usage chunk (empty choices: nothing to note in the first leg); false (nothing
   * noted) for anything else, which is then parsed.
   *
   * <p>One pass over the event: from each string (key or value, skipped whole, escapes included) to the next. A key
   * is a string followed by a colon; only the few keys above are compared. A string {@code "error"} or
   * {@code "tool_calls"} anywhere (key or value) sends the event to the parser, as does an escape in the text.
   */
  private boolean scanned(SseRelay.Bytes b, int start, int end) {
    byte[] a = b.array();
    int off = b.offset();
    byte[] textKey = chat ? CONTENT : TEXT;
    boolean choices = false;
    boolean noChoice = false;
    boolean sawText = false;
    int pieceFrom = -1;
    int pieceTo = -1;
    boolean finish = false;
    int i = start;
    while (i < end) {
      if (a[off + i] != '"') {
        i++;
        continue;
      }
      int from = i + 1;
      int close = from;
      boolean escaped = false;
      while (close < end && a[off + close] != '"') {
        if (a[off + close] == '\\') {
          escaped = true;
          close++; // the escaped byte is skipped with it
        }
        close++;
      }
      if (close >= end) {
        return false; // not JSON as expected: the parser decides
      }
      int len = close - from;
      if (!escaped && (is(a, off + from, len, ERROR) || is(a, off + from, len, TOOL_CALLS))) {
        return false;
      }
      int v = skipSpaces(a, off, close + 1, end);
      if (v >= end || a[off + v] != ':') {
        i = close + 1; // a value: skipped whole
        continue;
      }
      v = skipSpaces(a, off, v + 1, end);
      if (escaped || v >= end) {
        i = v;
        continue;
      }
      byte value = a[off + v];
      if (is(a, off + from, len, textKey)) {
        if (sawText) {
          return false; // a second text (several choices): the parser decides
        }
        sawText = true;
        if (value == '"') {
          int c = v + 1;
          while (c < end && a[off + c] != '"') {
            if (a[off + c] == '\\') {
              return false; // an escape: let the JSON parser decode it
            }
            c++;
          }
          if (c >= end) {
            return false;
          }
          pieceFrom = v + 1;
          pieceTo = c;
          i = c + 1;
          continue;
        }
        if (value != 'n') {
          return false;
        }
      } else if (is(a, off + from, len, CHOICES)) {
        int o = v + 1 < end && value == '[' ? skipSpaces(a, off, v + 1, end) : end;
        if (o >= end || (a[off + o] != '{' && a[off + o] != ']')) {
          return false;
        }
        if (choices) {
          return false; // a second choices key: the parser decides
        }
        choices = true;
        noChoice = a[off + o] == ']'; // the usage chunk: nothing to note (the relay reads its usage)
      } else if (is(a, off + from, len, LOGPROBS)) {
        if (value != 'n') {
          return false;
        }
      } else if (is(a, off + from, len, FINISH)) {
        finish |= value != 'n';
      }
      i = v;
    }
    if (!choices || (noChoice && (sawText || finish))) {
      return false;
    }
    if (finish) {
      finished = true;
    }
    if (pieceTo > pieceFrom) {
      appendText(a, off + pieceFrom, pieceTo - pieceFrom);
      tokens++;
    }
    return true;
  }

  private static boolean is(byte[] a, int from, int len, byte[] key) {
    return len == key.length && Arrays.equals(a, from, from + len, key, 0, len);
  }

  private static int skipSpaces(byte[] a, int off, int i, int end) {
    while (i < end && (a[off + i] == ' ' || a[off + i] == '\t' || a[off + i] == '\r' || a[off + i] == '\n')) {
      i++;
    }
    return i;
  }

  /** Appends UTF-8 bytes of relayed text; they are decoded only when a continuation or {@link #text()} needs them. */
  private void appendText(byte[] src, int from, int len) {
    if (textLength + len > text.length) {
      text = Arrays.copyOf(text, Math.max(textLength + len, text.length * 2));
    }
    System.arraycopy(src, from, text, textLength, len);
    textLength += len;
  }

  private String textString() {
    return new String(text, 0, textLength, StandardCharsets.UTF_8);
  }

  private void observe(JsonArray choices) {
    if (choices.size() > 1) {
      notResumable = "several choices";
    }
    if (choices.isEmpty() || !(choices.getValue(0) instanceof JsonObject choice)) {
      return;
    }
    if (choice.getValue("logprobs") != null) {
      notResumable = "log probabilities relayed";
    }
    String piece;
    if (chat) {
      JsonObject delta = choice.getValue("delta") instanceof JsonObject d ? d : new JsonObject();
      if (delta.getValue("tool_calls") instanceof JsonArray calls && !calls.isEmpty()) {
        notResumable = "tool calls relayed";
      }
      piece = delta.getValue("content") instanceof String c ? c : null;
    } else {
      piece = choice.getValue("text") instanceof String t ? t : null;
    }
    if (piece != null && !piece.isEmpty()) {
      byte[] utf8 = piece.getBytes(StandardCharsets.UTF_8);
      appendText(utf8, 0, utf8.length);
      tokens++;
    }
    if (choice.getValue("finish_reason") != null) {
      finished = true;
    }
  }

  /** Why this stream cannot be continued, or null if it can. */
  String whyNot(int maxResumes) {
    if (notResumable != null) {
      return notResumable;
    }
    if (legs > maxResumes) {
      return "resumed " + maxResumes + " times already";
    }
    return null;
  }

  /** Whether the client already got the finish reason: nothing is missing but the stream's end. */
  boolean finished() {
    return finished;
  }

  /**
   * The body of the continuation request, from the body sent upstream for the first leg; null if the budget is
   * spent. Before any text was relayed it is the original body.
   */
  Buffer continuation(Buffer original) {
    JsonObject body;
    try {
      body = new JsonObject(original);
    } catch (DecodeException e) {
      return null;
    }
    if (textLength == 0) {
      return original;
    }
    if (chat) {
      for (String budget : new String[] {"max_tokens", "max_completion_tokens"}) {
        if (body.getValue(budget) instanceof Number n) {
          long left = n.longValue() - tokens;
          if (left <= 0) {
            return null;
          }
          body.put(budget, left);
        }
      }
      JsonArray messages = body.getJsonArray("messages");
      JsonObject last = messages.isEmpty() ? null : messages.getJsonObject(messages.size() - 1);
      if (Boolean.TRUE.equals(body.getValue("continue_final_message")) && last != null
          && "assistant".equals(last.getValue("role")) && last.getValue("content") instanceof String already) {
        last.put("content", already + textString()); // the request itself continued a message: continue it further
      } else {
        messages.add(new JsonObject().put("role", "assistant").put("content", textString()));
      }
      body.put("continue_final_message", true).put("add_generation_prompt", false);
    } else {
      long budget = body.getValue("max_tokens") instanceof Number n ? n.longValue() : 16;
      long left = budget - tokens;
      if (left <= 0) {
        return null;
      }
      body.put("prompt", body.getString("prompt") + textString()).put("max_tokens", left);
    }
    return body.toBuffer();
  }

  /** A continuation leg starts: what was relayed until now moved into its prompt. */
  void nextLeg() {
    upstreamError = null;
    legs++;
    tokensBeforeLeg = tokens;
  }

  /** The message of an error event the current leg sent instead of its end (held back from the client), or null. */
  String upstreamError() {
    return upstreamError;
  }

  /** Continuations sent so far. */
  int resumes() {
    return legs - 1;
  }

  /** Notes the replica that serves a leg. */
  void servedBy(long replicaId) {
    replicas.add(replicaId);
  }

  /** The replicas of the legs, in order, comma-separated. */
  String replicas() {
    StringBuilder s = new StringBuilder();
    for (Long r : replicas) {
      s.append(s.length() == 0 ? "" : ",").append(r);
    }
    return s.toString();
  }

  List<Long> replicaIds() {
    return replicas;
  }

  /** The text relayed so far (all legs). */
  String text() {
    return textString();
  }

  /** Completion tokens relayed so far (all legs). */
  int tokens() {
    return tokens;
  }

  /**
   * The usage of the whole answer from a continuation leg's usage: its prompt held the tokens relayed before it,
   * which count as completion tokens of the answer.
   */
  JsonObject combinedUsage(JsonObject leg) {
    if (legs == 1 || leg == null) {
      return leg;
    }
    int prompt = Math.max(0, intOf(leg, "prompt_tokens") - tokensBeforeLeg);
    int completion = tokensBeforeLeg + intOf(leg, "completion_tokens");
    JsonObject u = leg.copy();
    u.put("prompt_tokens", prompt).put("completion_tokens", completion).put("total_tokens", prompt + completion);
    return u;
  }

  private static int intOf(JsonObject o, String field) {
    return o.getValue(field) instanceof Number n ? n.intValue() : 0;
  }
}
