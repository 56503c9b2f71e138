package io.inferencegateway.ingress;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Stage "read body" over a hand-fed stream: limits, declared lengths, a body that never comes. */
class ReadBodyTest {

  /** A paused body stream the test feeds by hand. */
  static final class Body implements ReadStream<Buffer> {
    Handler<Buffer> handler;
    Handler<Void> end;
    Handler<Throwable> error;
    boolean paused = true;
    final List<String> calls = new ArrayList<>();

    void send(String text) {
      assertThat(paused).as("data only flows once resumed").isFalse();
      handler.handle(Buffer.buffer(text));
    }

    void end() {
      end.handle(null);
    }

    @Override public ReadStream<Buffer> exceptionHandler(Handler<Throwable> h) { error = h; return this; }
    @Override public ReadStream<Buffer> handler(Handler<Buffer> h) { handler = h; return this; }
    @Override public ReadStream<Buffer> pause() { paused = true; return this; }
    @Override public ReadStream<Buffer> resume() { paused = false; calls.add("resume"); return this; }
    @Override public ReadStream<Buffer> fetch(long amount) { paused = false; return this; }
    @Override public ReadStream<Buffer> endHandler(Handler<Void> h) { end = h; return this; }
  }

  @Test
  void readsTheWholeBodyInPieces() {
    Body body = new Body();
    Future<Buffer> read = ReadBody.read(body, false, "11", 100);
    body.send("hello ");
    body.send("world");
    assertThat(read.isComplete()).isFalse();
    body.end();
    assertThat(read.result().toString()).isEqualTo("hello world");
  }

  @Test
  void aDeclaredLengthOverTheLimitIsRefusedWithoutReadingAByte() {
    Body body = new Body();
    Future<Buffer> read = ReadBody.read(body, false, "101", 100);
    assertThat(((IngressFailure) read.cause()).status()).isEqualTo(413);
    assertThat(body.calls).as("never resumed").isEmpty();
  }

  @Test
  void anUndeclaredBodyOverTheLimitFailsAsItArrives() {
    Body body = new Body();
    Future<Buffer> read = ReadBody.read(body, false, null, 10);
    body.send("0123456789");
    assertThat(read.isComplete()).isFalse();
    body.send("x");
    assertThat(((IngressFailure) read.cause()).code()).isEqualTo("request_too_large");
  }

  @Test
  void badLengthsAndBrokenStreams() {
    assertThat(((IngressFailure) ReadBody.read(new Body(), false, "ten", 10).cause()).status()).isEqualTo(400);
    assertThat(ReadBody.read(new Body(), true, "0", 10).result().length()).isZero();
    Body body = new Body();
    Future<Buffer> read = ReadBody.read(body, false, "5", 10);
    body.error.handle(new IllegalStateException("connection reset"));
    assertThat(read.cause()).hasMessage("connection reset");
  }
}
