package io.inferencegateway.ingress;

import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;

/**
 * Refusing a request whose body is still coming (401, 413, 415, 408, 503 ...): the answer goes out at once, marked
 * {@code Connection: close}; the rest of the body is discarded as it comes, never buffered, and the HTTP/1 connection
 * is closed once the body ends or after {@link #LINGER_MS} at most. Closing at once could make the client lose the
 * answer (a close with unread data resets the connection). HTTP/2 refuses a stream, not the connection.
 */
public final class PendingBody {

  /** How long a refused client may go on sending the body no one reads before its connection is closed. */
  public static final long LINGER_MS = 2000;

  /** Runs an action later, on the request's event loop. */
  public interface Timer {
    void after(long delayMs, Runnable action);
  }

  private PendingBody() {}

  /** True if the request's HTTP/1 body is still coming; then marks the answer (not yet written) to close. */
  public static boolean beforeAnswer(HttpServerRequest req) {
    boolean pending = !req.isEnded() && req.version() != HttpVersion.HTTP_2;
    if (pending && !req.response().headWritten()) {
      req.response().putHeader(HttpHeaders.CONNECTION, "close");
    }
    return pending;
  }

  /** Once the answer is sent: discards the rest of the body, closes when it ends or after {@link #LINGER_MS}. */
  public static void closeAfter(HttpServerRequest req, Future<Void> sent, Timer timer) {
    if (sent == null) {
      req.connection().close();
      return;
    }
    sent.onComplete(ar -> {
      Runnable close = () -> req.connection().close();
      if (req.isEnded()) { // the body ended meanwhile
        close.run();
        return;
      }
      req.handler(discarded -> { }).endHandler(v -> close.run());
      req.resume();
      timer.after(LINGER_MS, close);
    });
  }
}
