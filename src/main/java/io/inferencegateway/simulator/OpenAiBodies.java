package io.inferencegateway.simulator;

import io.vertx.core.buffer.Buffer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Response bodies and SSE events in the exact field order and null handling of vLLM's pydantic models:
 * full responses are dumped with all fields, chat chunks with {@code exclude_unset}, completion chunks
 * with all fields, and the final usage chunk with {@code exclude_none}.
 */
final class OpenAiBodies {

  static final byte[] DONE = JsonText.ascii("data: [DONE]\n\n");
  private static final byte[] EVENT_END = JsonText.ascii("}\n\n");
  private static final byte[] INDEX = JsonText.ascii("{\"index\":");
  private static final byte[] ROLE_DELTA =
      JsonText.ascii(",\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]");
  private static final byte[] CONTENT_DELTA = JsonText.ascii(",\"delta\":{\"content\":");
  private static final byte[] CHAT_TOKEN_END = JsonText.ascii("},\"logprobs\":null,\"finish_reason\":null}]");
  private static final byte[] CHAT_FINISH = JsonText.ascii(",\"delta\":{\"content\":\"\"},\"logprobs\":null,\"finish_reason\":\"");
  private static final byte[] TEXT = JsonText.ascii(",\"text\":");
  private static final byte[] TEXT_TOKEN_END =
      JsonText.ascii(",\"logprobs\":null,\"finish_reason\":null,\"stop_reason\":null}]");
  private static final byte[] TEXT_FINISH = JsonText.ascii(",\"text\":\"\",\"logprobs\":null,\"finish_reason\":\"");
  private static final byte[] FINISH_END = JsonText.ascii("\",\"stop_reason\":null}]");
  private static final byte[] USAGE_NULL = JsonText.ascii(",\"usage\":null");
  private static final byte[] USAGE = JsonText.ascii(",\"usage\":{\"prompt_tokens\":");
  private static final byte[] TOTAL = JsonText.ascii(",\"total_tokens\":");
  private static final byte[] COMPLETION = JsonText.ascii(",\"completion_tokens\":");
  private static final byte[] DETAILS_NULL = JsonText.ascii(",\"prompt_tokens_details\":null");
  private static final byte[] EMPTY_CHOICES_USAGE = JsonText.ascii("]");

  private OpenAiBodies() {
  }

  /** {@code data: {"id":…,"object":…,"created":…,"model":…,"choices":[} shared by every event of a stream. */
  static byte[] eventHead(String id, String object, long created, String quotedModel) {
    StringBuilder sb = new StringBuilder(128);
    sb.append("data: {\"id\":");
    JsonText.quote(sb, id);
    sb.append(",\"object\":\"").append(object).append("\",\"created\":").append(created)
        .append(",\"model\":").append(quotedModel).append(",\"choices\":[");
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  static void chatRole(Buffer buf, byte[] head, int index, int prompt, boolean usage) {
    buf.appendBytes(head).appendBytes(INDEX);
    JsonText.appendLong(buf, index).appendBytes(ROLE_DELTA);
    if (usage) {
      usage(buf, prompt, 0, false);
    }
    buf.appendBytes(EVENT_END);
  }

  static void chatToken(Buffer buf, byte[] head, int index, byte[] token, int prompt, int soFar, boolean usage) {
    buf.appendBytes(head).appendBytes(INDEX);
    JsonText.appendLong(buf, index).appendBytes(CONTENT_DELTA).appendBytes(token).appendBytes(CHAT_TOKEN_END);
    if (usage) {
      usage(buf, prompt, soFar, false);
    }
    buf.appendBytes(EVENT_END);
  }

  static void chatFinish(Buffer buf, byte[] head, int index, String reason, int prompt, int soFar, boolean usage) {
    buf.appendBytes(head).appendBytes(INDEX);
    JsonText.appendLong(buf, index).appendBytes(CHAT_FINISH).appendString(reason).appendBytes(FINISH_END);
    if (usage) {
      usage(buf, prompt, soFar, false);
    }
    buf.appendBytes(EVENT_END);
  }

  static void textToken(Buffer buf, byte[] head, int index, byte[] token, int prompt, int soFar, boolean usage) {
    buf.appendBytes(head).appendBytes(INDEX);
    JsonText.appendLong(buf, index).appendBytes(TEXT).appendBytes(token).appendBytes(TEXT_TOKEN_END);
    if (usage) {
      usage(buf, prompt, soFar, true);
    } else {
      buf.appendBytes(USAGE_NULL);
    }
    buf.appendBytes(EVENT_END);
  }

  static void textFinish(Buffer buf, byte[] head, int index, String reason, int prompt, int soFar, boolean usage) {
    buf.appendBytes(head).appendBytes(INDEX);
    JsonText.appendLong(buf, index).appendBytes(TEXT_FINISH).appendString(reason).appendBytes(FINISH_END);
    if (usage) {
      usage(buf, prompt, soFar, true);
    } else {
      buf.appendBytes(USAGE_NULL);
    }
    buf.appendBytes(EVENT_END);
  }

  /**
   * The {@code "choices":[]} event with the request's usage, sent when include_usage is on; with
   * {@code cached >= 0} (the faithful engine) it carries {@code prompt_tokens_details.cached_tokens}, as
   * vLLM does with {@code --enable-prompt-tokens-details}.
   */
  static void usageEvent(Buffer buf, byte[] head, int prompt, int completion, int cached) {
    buf.appendBytes(head).appendBytes(EMPTY_CHOICES_USAGE);
    usage(buf, prompt, completion, false);
    if (cached >= 0) {
      buf.setByte(buf.length() - 1, (byte) ',');
      buf.appendString("\"prompt_tokens_details\":{\"cached_tokens\":").appendString(Integer.toString(cached))
          .appendString("}}");
    }
    buf.appendBytes(EVENT_END);
  }

  private static void usage(Buffer buf, int prompt, int completion, boolean withDetails) {
    buf.appendBytes(USAGE);
    JsonText.appendLong(buf, prompt).appendBytes(TOTAL);
    JsonText.appendLong(buf, (long) prompt + completion).appendBytes(COMPLETION);
    JsonText.appendLong(buf, completion);
    if (withDetails) {
      buf.appendBytes(DETAILS_NULL);
    }
    buf.appendByte((byte) '}');
  }

  private static StringBuilder usage(StringBuilder sb, long prompt, long completion, int cached) {
    sb.append(",\"usage\":{\"prompt_tokens\":").append(prompt)
        .append(",\"total_tokens\":").append(prompt + completion)
        .append(",\"completion_tokens\":").append(completion);
    if (cached >= 0) {
      return sb.append(",\"prompt_tokens_details\":{\"cached_tokens\":").append(cached).append("}}");
    }
    return sb.append(",\"prompt_tokens_details\":null}");
  }

  private static StringBuilder head(StringBuilder sb, String id, String object, long created, String quotedModel) {
    sb.append("{\"id\":");
    JsonText.quote(sb, id);
    return sb.append(",\"object\":\"").append(object).append("\",\"created\":").append(created)
        .append(",\"model\":").append(quotedModel);
  }

  /** A chat answer; {@code cached}: prompt tokens found in the prefix cache, or -1 (no cache). */
  static Buffer chatCompletion(String id, long created, String quotedModel, InferenceRequest r, int cached) {
    int tokens = r.completionTokens[0];
    StringBuilder sb = new StringBuilder(320 + r.n * (tokens * 9 + 160));
    head(sb, id, "chat.completion", created, quotedModel).append(",\"choices\":[");
    for (int c = 0; c < r.n; c++) {
      if (c > 0) {
        sb.append(',');
      }
      sb.append("{\"index\":").append(c)
          .append(",\"message\":{\"role\":\"assistant\",\"content\":\"")
          .append(Words.answer(r.answerStart[0], c, r.answered[0], tokens, true))
          .append("\",\"tool_calls\":[]},\"logprobs\":null,\"finish_reason\":\"").append(r.finishReasons[0])
          .append("\",\"stop_reason\":null}");
    }
    sb.append(']');
    usage(sb, r.totalPromptTokens(), r.totalCompletionTokens(), cached).append(",\"prompt_logprobs\":null}");
    return Buffer.buffer(sb.toString());
  }

  static Buffer textCompletion(String id, long created, String quotedModel, InferenceRequest r, int cached) {
    StringBuilder sb = new StringBuilder(320 + r.promptTokens.length * r.n * 300);
    head(sb, id, "text_completion", created, quotedModel).append(",\"choices\":[");
    for (int p = 0; p < r.promptTokens.length; p++) {
      for (int c = 0; c < r.n; c++) {
        int index = p * r.n + c;
        if (index > 0) {
          sb.append(',');
        }
        sb.append("{\"index\":").append(index)
            .append(",\"text\":\"")
            .append(Words.answer(r.answerStart[p], c, r.answered[p], r.completionTokens[p], false))
            .append("\",\"logprobs\":null,\"finish_reason\":\"").append(r.finishReasons[p])
            .append("\",\"stop_reason\":null,\"prompt_logprobs\":null}");
      }
    }
    sb.append(']');
    usage(sb, r.totalPromptTokens(), r.totalCompletionTokens(), cached).append('}');
    return Buffer.buffer(sb.toString());
  }

  static Buffer embeddings(String id, long created, String quotedModel, InferenceRequest r) {
    List<String> inputs = r.inputs;
    StringBuilder sb = new StringBuilder(256 + inputs.size() * (r.dimensions * 12 + 64));
    head(sb, id, "list", created, quotedModel).append(",\"data\":[");
    float[] vector = new float[r.dimensions];
    for (int i = 0; i < inputs.size(); i++) {
      if (i > 0) {
        sb.append(',');
      }
      sb.append("{\"index\":").append(i).append(",\"object\":\"embedding\",\"embedding\":");
      embed(inputs.get(i), vector);
      if (r.base64) {
        ByteBuffer bytes = ByteBuffer.allocate(vector.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : vector) {
          bytes.putFloat(f);
        }
        sb.append('"').append(Base64.getEncoder().encodeToString(bytes.array())).append('"');
      } else {
        sb.append('[');
        for (int d = 0; d < vector.length; d++) {
          if (d > 0) {
            sb.append(',');
          }
          sb.append(vector[d]);
        }
        sb.append(']');
      }
      sb.append('}');
    }
    sb.append(']');
    usage(sb, r.totalPromptTokens(), 0, -1).append('}');
    return Buffer.buffer(sb.toString());
  }

  /** A unit vector that depends only on the text: the same input always embeds the same way. */
  static void embed(String text, float[] out) {
    long h = 0xcbf29ce484222325L; // FNV-1a
    for (int i = 0; i < text.length(); i++) {
      h = (h ^ text.charAt(i)) * 0x100000001b3L;
    }
    SplittableRandom rnd = new SplittableRandom(h);
    double norm = 0;
    for (int d = 0; d < out.length; d++) {
      double v = rnd.nextDouble() * 2 - 1;
      out[d] = (float) v;
      norm += v * v;
    }
    double scale = norm == 0 ? 0 : 1 / Math.sqrt(norm);
    for (int d = 0; d < out.length; d++) {
      out[d] = (float) (out[d] * scale);
    }
  }
}
