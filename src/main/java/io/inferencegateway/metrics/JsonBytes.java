package io.inferencegateway.metrics;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A growable byte array that JSON is written into by hand, as UTF-8: no tree of objects and no Jackson generator per
 * record. Reused for every batch of the usage journal. Strings are escaped as Jackson escapes them (quote, backslash
 * and control characters as escapes, surrogates too, characters outside the Basic Multilingual Plane included; the
 * rest as UTF-8), so a line is byte for byte what {@code JsonObject.toBuffer()} would give.
 */
final class JsonBytes {

  private static final byte[] NULL = {'n', 'u', 'l', 'l'};
  private static final byte[] TRUE = {'t', 'r', 'u', 'e'};
  private static final byte[] FALSE = {'f', 'a', 'l', 's', 'e'};
  private static final byte[] HEX = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);

  private byte[] buf;
  private int len;

  JsonBytes(int capacity) {
    buf = new byte[Math.max(16, capacity)];
  }

  void reset() {
    len = 0;
  }

  int length() {
    return len;
  }

  int capacity() {
    return buf.length;
  }

  /** The bytes written, without a copy (valid until the next write). */
  ByteBuffer byteBuffer() {
    return ByteBuffer.wrap(buf, 0, len);
  }

  byte[] toByteArray() {
    return Arrays.copyOf(buf, len);
  }

  private void ensure(int more) {
    if (len + more > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(len + more, buf.length * 2));
    }
  }

  /** Bytes written as they are: punctuation and keys prepared as constants. */
  JsonBytes raw(byte[] bytes) {
    ensure(bytes.length);
    System.arraycopy(bytes, 0, buf, len, bytes.length);
    len += bytes.length;
    return this;
  }

  JsonBytes raw(char ascii) {
    ensure(1);
    buf[len++] = (byte) ascii;
    return this;
  }

  JsonBytes bool(boolean b) {
    return raw(b ? TRUE : FALSE);
  }

  JsonBytes number(Long n) {
    return n == null ? raw(NULL) : number(n.longValue());
  }

  JsonBytes number(long n) {
    if (n == Long.MIN_VALUE) {
      return raw(Long.toString(n).getBytes(StandardCharsets.US_ASCII));
    }
    ensure(20);
    if (n < 0) {
      buf[len++] = '-';
      n = -n;
    }
    int digits = 1;
    for (long t = n / 10; t > 0; t /= 10) {
      digits++;
    }
    int at = len + digits;
    len = at;
    do {
      buf[--at] = (byte) ('0' + (n % 10));
      n /= 10;
    } while (n > 0);
    return this;
  }

  /** A JSON string, or {@code null}. */
  JsonBytes string(String s) {
    if (s == null) {
      return raw(NULL);
    }
    int n = s.length();
    ensure(n + 2);
    buf[len++] = '"';
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
        if (len == buf.length) {
          ensure(1 + n - i);
        }
        buf[len++] = (byte) c;
      } else if (c < 0x80) {
        escape(c);
      } else {
        utf8(c);
      }
    }
    return raw('"');
  }

  private void escape(char c) {
    ensure(6);
    buf[len++] = '\\';
    switch (c) {
      case '"' -> buf[len++] = '"';
      case '\\' -> buf[len++] = '\\';
      case '\n' -> buf[len++] = 'n';
      case '\r' -> buf[len++] = 'r';
      case '\t' -> buf[len++] = 't';
      case '\b' -> buf[len++] = 'b';
      case '\f' -> buf[len++] = 'f';
      default -> {
        buf[len++] = 'u';
        buf[len++] = '0';
        buf[len++] = '0';
        buf[len++] = HEX[c >> 4];
        buf[len++] = HEX[c & 0xF];
      }
    }
  }

  /** Writes a character from U+0080 as UTF-8, or a surrogate (half of a pair, or alone) as Jackson does: escaped. */
  private void utf8(char c) {
    ensure(6);
    if (c < 0x800) {
      buf[len++] = (byte) (0xC0 | (c >> 6));
      buf[len++] = (byte) (0x80 | (c & 0x3F));
    } else if (!Character.isSurrogate(c)) {
      buf[len++] = (byte) (0xE0 | (c >> 12));
      buf[len++] = (byte) (0x80 | ((c >> 6) & 0x3F));
      buf[len++] = (byte) (0x80 | (c & 0x3F));
    } else {
      buf[len++] = '\\';
      buf[len++] = 'u';
      buf[len++] = HEX[c >> 12];
      buf[len++] = HEX[(c >> 8) & 0xF];
      buf[len++] = HEX[(c >> 4) & 0xF];
      buf[len++] = HEX[c & 0xF];
    }
  }
}
