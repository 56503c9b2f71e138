package io.inferencegateway.ingress;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Relays a vLLM server-sent-event stream to the client as it arrives, one complete event at a time, while noting what
 * the gateway needs: the usage chunk (parsed; every other event is only scanned, never parsed), whether {@code [DONE]}
 * came, and how many events carried choices (an estimate of tokens when a stream breaks before its usage chunk).
 * The usage-only chunk the gateway asked for on the client's behalf is dropped unless the client asked for it too.
 * Complete events of one network read go out in one write; only a partial event at the end is held back.
 */
public final class SseRelay {

  private static final byte[] USAGE = "\"usage\"".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] DONE = "data: [DONE]".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] ERROR = "\"error\"".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CHOICES = "\"choices\"".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] DATA_FIELD = "data:".getBytes(StandardCharsets.US_ASCII);

  private final boolean forwardUsageChunk;
  private final boolean captureContent;
  private final Consumer<Buffer> sink;
  private final EventTap tap;

  private Buffer pending;
  private boolean sawDone;
  private int choiceEvents;
  private JsonObject usage;
  private String upstreamError;
  private StringBuilder content;

  /**
   * @param forwardUsageChunk whether the client asked for {@code stream_options.include_usage}
   * @param captureContent whether to keep the generated text (the "store content" setting)
   * @param sink where relayed bytes go (the client response); called at most once per {@link #feed}
   */
  public SseRelay(boolean forwardUsageChunk, boolean captureContent, Consumer<Buffer> sink) {
    this(forwardUsageChunk, captureContent, sink, null);
  }

  /** @param tap sees every event that is forwarded, and may replace or drop it (null: none) */
  public SseRelay(boolean forwardUsageChunk, boolean captureContent, Consumer<Buffer> sink, EventTap tap) {
    this.forwardUsageChunk = forwardUsageChunk;
    this.captureContent = captureContent;
    this.sink = sink;
    this.tap = tap;
  }

  /** Looks at each complete event about to be forwarded (see {@link StreamResume}). */
  public interface EventTap {
    /**
     * @param data holds the event at {@code [start, end)}, blank line included
     * @param bytes the same bytes as an array (computed once per read: do not compute it again per event)
     * @return null to forward the event as it is, else the bytes to forward instead (empty: nothing)
     */
    Buffer event(Buffer data, Bytes bytes, int start, int end);
  }

  /** Takes one network read from upstream and forwards every event it completes. */
  public void feed(Buffer chunk) {
    Buffer data;
    if (pending == null) {
      data = chunk;
    } else {
      data = pending.appendBuffer(chunk);
      pending = null;
    }
    int len = data.length();
    Bytes bytes = Bytes.of(data);
    Buffer out = null;  // what this read forwards
    int runStart = 0;   // start of the events not yet written
    int eventStart = 0;
    int i = 0;
    while (i < len) {
      int end = eventEnd(bytes, i, len);
      if (end < 0) {
        break;
      }
      boolean keep = inspect(data, bytes, eventStart, end);
      Buffer replaced = keep && tap != null ? tap.event(data, bytes, eventStart, end) : null;
      if (!keep || replaced != null) {
        if (eventStart > runStart) {
          out = append(out, data.slice(runStart, eventStart));
        }
        runStart = end;
        if (replaced != null && replaced.length() > 0) {
          out = append(out, replaced);
        }
      }
      eventStart = end;
      i = end;
    }
    if (eventStart > runStart) {
      out = append(out, runStart == 0 && eventStart == len ? data : data.slice(runStart, eventStart));
    }
    if (eventStart < len) {
      pending = data.getBuffer(eventStart, len); // a copy: the slice's backing buffer may be reused
    }
    if (out != null) {
      sink.accept(out); // one write per network read: a system call per write is the dear part
    }
  }

  /**
   * Joins what one read forwards; only a hidden usage chunk in the middle makes two pieces. They are joined without a
   * copy (a composite of the two, written with one system call); the pieces are Vert.x heap buffers, which nothing
   * frees, and each is wrapped unreleasable so that the write's release of the composite leaves them alone.
   */
  private static Buffer append(Buffer out, Buffer piece) {
    if (out == null) {
      return piece;
    }
    if (out instanceof io.vertx.core.internal.buffer.BufferInternal a
        && piece instanceof io.vertx.core.internal.buffer.BufferInternal b) {
      return io.vertx.core.internal.buffer.BufferInternal.buffer(io.netty.buffer.Unpooled.wrappedBuffer(
          io.netty.buffer.Unpooled.unreleasableBuffer(a.getByteBuf()),
          io.netty.buffer.Unpooled.unreleasableBuffer(b.getByteBuf())));
    }
    return Buffer.buffer(out.length() + piece.length()).appendBuffer(out).appendBuffer(piece);
  }

  /**
   * The bytes of a buffer as an array and offset, without a copy when the buffer is a heap buffer (as Vert.x hands
   * over network reads): scanning a plain array is several times faster than {@code Buffer.getByte} per byte, which
   * checks bounds and the reference count on every call. Index {@code i} is the buffer's {@code getByte(i)}.
   */
  record Bytes(byte[] array, int offset) {
    static Bytes of(Buffer buffer) {
      io.netty.buffer.ByteBuf buf = null;
      if (buffer instanceof io.vertx.core.buffer.impl.BufferImpl impl) {
        buf = impl.byteBuf(); // the buffer itself: getByteBuf() would allocate a slice per call
      } else if (buffer instanceof io.vertx.core.internal.buffer.BufferInternal internal) {
        buf = internal.getByteBuf(); // a slice from the reader index: its index 0 is the buffer's
      }
      if (buf != null && buf.hasArray()) {
        return new Bytes(buf.array(), buf.arrayOffset()); // Buffer.getByte(i) reads the ByteBuf's absolute index i
      }
      return new Bytes(buffer.getBytes(), 0);
    }

    byte at(int i) {
      return array[offset + i];
    }
  }

  /** Index just past the blank line ending the event that contains position {@code from}, or -1 if incomplete. */
  private static int eventEnd(Bytes b, int from, int len) {
    byte[] a = b.array();
    int off = b.offset();
    for (int i = from; i < len - 1; i++) {
      if (a[off + i] == '\n') {
        byte next = a[off + i + 1];
        if (next == '\n') {
          return i + 2;
        }
        if (next == '\r' && i + 2 < len && a[off + i + 2] == '\n') {
          return i + 3;
        }
      }
    }
    return -1;
  }

  /** Notes what the event says; returns false if it must not reach the client. */
  private boolean inspect(Buffer b, Bytes bytes, int start, int end) {
    if (startsWith(bytes, start, end, DONE)) {
      sawDone = true;
      return true;
    }
    int c = indexOf(bytes, CHOICES, start, end);
    boolean hasChoices = c >= 0;
    // vLLM (like OpenAI) sends the usage in a last chunk whose choices are empty: a token chunk is not searched
    // for it, which halves the bytes scanned per event (the choices key comes early, the usage key last)
    boolean mayHaveUsage = !hasChoices
        || emptyArrayAt(bytes, nextNonSpaceAfterColonAt(bytes, c + CHOICES.length, end), end);
    int u = mayHaveUsage ? indexOf(bytes, USAGE, start, end) : -1;
    boolean hasUsageObject = u >= 0 && nextNonSpaceAfterColon(bytes, u + USAGE.length, end) == '{';
    if (hasChoices) {
      choiceEvents++;
    }
    if (hasUsageObject || captureContent || (!hasChoices && indexOf(bytes, ERROR, start, end) >= 0)) {
      JsonObject event = parseData(b, bytes, start, end);
      if (event != null) {
        if (event.getValue("usage") instanceof JsonObject usageObject) {
          usage = usageObject;
        }
        if (event.getValue("error") instanceof JsonObject err) {
          upstreamError = err.getString("message", err.encode());
        } else if (event.getValue("object") instanceof String o && o.equals("error")) {
          upstreamError = event.getString("message", event.encode());
        }
        JsonArray choices = event.getJsonArray("choices");
        if (captureContent && choices != null) {
          appendContent(choices);
        }
        if (hasUsageObject && choices != null && choices.isEmpty()) {
          choiceEvents--; // the usage-only chunk carries no token
          return forwardUsageChunk;
        }
      }
    }
    return true;
  }

  private void appendContent(JsonArray choices) {
    for (int i = 0; i < choices.size(); i++) {
      if (!(choices.getValue(i) instanceof JsonObject c)) {
        continue;
      }
      String piece = c.getValue("delta") instanceof JsonObject d ? d.getString("content") : c.getString("text");
      if (piece != null) {
        if (content == null) {
          content = new StringBuilder();
        }
        content.append(piece);
      }
    }
  }

  /**
   * The JSON of an event's data lines, or null if it has none or is not JSON. An event of one data line (what vLLM
   * sends) is parsed straight from the bytes; several data lines are joined with newlines, as SSE defines.
   */
  static JsonObject parseData(Buffer b, int start, int end) {
    return parseData(b, Bytes.of(b), start, end);
  }

  /** {@link #parseData(Buffer, int, int)} with the buffer's bytes already at hand. */
  static JsonObject parseData(Buffer b, Bytes bytes, int start, int end) {
    int firstFrom = -1;
    int firstTo = -1;
    StringBuilder joined = null;
    int i = start;
    while (i < end) {
      int eol = i;
      while (eol < end && bytes.at(eol) != '\n') {
        eol++;
      }
      int lineEnd = eol > i && bytes.at(eol - 1) == '\r' ? eol - 1 : eol;
      if (startsWith(bytes, i, lineEnd, DATA_FIELD)) {
        int from = i + DATA_FIELD.length;
        if (from < lineEnd && bytes.at(from) == ' ') {
          from++;
        }
        if (firstFrom < 0) {
          firstFrom = from;
          firstTo = lineEnd;
        } else {
          if (joined == null) {
            joined = new StringBuilder(b.getString(firstFrom, firstTo, "UTF-8"));
          }
          joined.append('\n').append(b.getString(from, lineEnd, "UTF-8"));
        }
      }
      i = eol + 1;
    }
    if (firstFrom < 0 || firstFrom >= firstTo || bytes.at(firstFrom) != '{') {
      return null;
    }
    try {
      return joined == null ? new JsonObject(b.slice(firstFrom, firstTo)) : new JsonObject(joined.toString());
    } catch (DecodeException | ClassCastException e) {
      return null;
    }
  }

  private static int nextNonSpaceAfterColon(Bytes b, int from, int end) {
    int i = nextNonSpaceAfterColonAt(b, from, end);
    return i < end ? b.at(i) : -1;
  }

  private static int nextNonSpaceAfterColonAt(Bytes b, int from, int end) {
    int i = from;
    while (i < end && (b.at(i) == ' ' || b.at(i) == ':')) {
      i++;
    }
    return i;
  }

  /** Whether an empty JSON array ({@code []}, spaces allowed inside) starts at {@code i}. */
  private static boolean emptyArrayAt(Bytes b, int i, int end) {
    if (i >= end || b.at(i) != '[') {
      return false;
    }
    int j = i + 1;
    while (j < end && (b.at(j) == ' ' || b.at(j) == '\n' || b.at(j) == '\r' || b.at(j) == '\t')) {
      j++;
    }
    return j < end && b.at(j) == ']';
  }

  private static boolean startsWith(Bytes b, int start, int end, byte[] prefix) {
    if (end - start < prefix.length) {
      return false;
    }
    for (int k = 0; k < prefix.length; k++) {
      if (b.at(start + k) != prefix[k]) {
        return false;
      }
    }
    return true;
  }

  static int indexOf(Bytes b, byte[] needle, int start, int end) {
    byte[] a = b.array();
    int off = b.offset();
    byte first = needle[0];
    outer:
    for (int i = start; i <= end - needle.length; i++) {
      if (a[off + i] != first) {
        continue;
      }
      for (int k = 1; k < needle.length; k++) {
        if (a[off + i + k] != needle[k]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  /** Forwards an incomplete trailing event, if any (a well-formed stream never leaves one). */
  public void flushRemainder() {
    if (pending != null && pending.length() > 0) {
      sink.accept(pending);
      pending = null;
    }
  }

  public boolean sawDone() {
    return sawDone;
  }

  /** Events that carried choices: about one token each in vLLM's streams. */
  public int choiceEvents() {
    return Math.max(0, choiceEvents);
  }

  /** The usage vLLM reported, or null if the stream ended before it. */
  public JsonObject usage() {
    return usage;
  }

  public String upstreamError() {
    return upstreamError;
  }

  public String content() {
    return content == null ? null : content.toString();
  }
}
