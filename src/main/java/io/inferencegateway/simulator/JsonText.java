package io.inferencegateway.simulator;

import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;

/** Hand-written JSON for the hot paths: no reflection, no intermediate trees. */
final class JsonText {

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private JsonText() {
  }

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  /** Appends {@code s} as a quoted JSON string. */
  static StringBuilder quote(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0, n = s.length(); i < n; i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xF]);
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"');
  }

  static String quote(String s) {
    return quote(new StringBuilder(s.length() + 2), s).toString();
  }

  /** Appends a non-negative or negative long in decimal without allocating a String. */
  static Buffer appendLong(Buffer buf, long value) {
    if (value < 0) {
      if (value == Long.MIN_VALUE) {
        return buf.appendString(Long.toString(value));
      }
      buf.appendByte((byte) '-');
      value = -value;
    }
    if (value < 10) {
      return buf.appendByte((byte) ('0' + value));
    }
    long div = 1;
    while (value / div >= 10) {
      div *= 10;
    }
    while (div > 0) {
      buf.appendByte((byte) ('0' + (value / div) % 10));
      div /= 10;
    }
    return buf;
  }

  /** 32 lower-case hex digits, like Python's {@code uuid4().hex} that vLLM puts in ids. */
  static String randomHex(java.util.concurrent.ThreadLocalRandom rnd) {
    char[] out = new char[32];
    long a = rnd.nextLong();
    long b = rnd.nextLong();
    for (int i = 0; i < 16; i++) {
      out[i] = HEX[(int) (a >>> (60 - 4 * i)) & 0xF];
      out[16 + i] = HEX[(int) (b >>> (60 - 4 * i)) & 0xF];
    }
    return new String(out);
  }

  /** vLLM's error body. */
  static Buffer error(int status, String type, String message, String param) {
    StringBuilder sb = new StringBuilder(96 + message.length());
    sb.append("{\"error\":{\"message\":");
    quote(sb, message);
    sb.append(",\"type\":");
    quote(sb, type);
    sb.append(",\"param\":");
    if (param == null) {
      sb.append("null");
    } else {
      quote(sb, param);
    }
    sb.append(",\"code\":").append(status).append("}}");
    return Buffer.buffer(sb.toString());
  }

  static Buffer error(ApiError e) {
    return error(e.status, e.type, e.getMessage(), e.param);
  }
}
