package io.inferencegateway.ingress;

import io.netty.channel.ConnectTimeoutException;
import io.vertx.core.Future;
import io.vertx.core.VertxException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.ConnectException;
import java.net.UnknownHostException;
import java.util.concurrent.TimeoutException;

/** The one place where failures become HTTP responses in OpenAI's error shape. */
public final class OpenAiErrors {

  private static final Logger log = LoggerFactory.getLogger(OpenAiErrors.class);

  private OpenAiErrors() {}

  /** Maps any failure of the request chain to the failure the client should see. */
  public static IngressFailure classify(Throwable err) {
    IngressFailure f = classifyQuietly(err);
    if (f != null) {
      return f;
    }
    log.error("Unexpected failure while proxying", err);
    return new IngressFailure(500, "server_error", "internal_error", null,
        "The gateway failed to handle the request.", 0, false);
  }

  /** As {@link #classify}, but null (and nothing logged) for a failure of no known kind. */
  static IngressFailure classifyQuietly(Throwable err) {
    if (err instanceof io.vertx.core.http.StreamResetException reset && reset.getCause() != null) {
      err = reset.getCause(); // a reset the gateway made itself, e.g. a timeout of its watchdog, or its shutdown
    }
    if (err instanceof IngressFailure f) {
      return f;
    }
    if (err instanceof ConnectException || err instanceof ConnectTimeoutException || err instanceof UnknownHostException) {
      return IngressFailure.upstreamUnreachable(err.getMessage() == null ? err.getClass().getSimpleName() : err.getMessage());
    }
    if (err instanceof TimeoutException || err instanceof io.netty.handler.timeout.TimeoutException
        || (err.getMessage() != null && err.getMessage().contains("timeout"))) {
      return IngressFailure.upstreamTimeout("no response");
    }
    if (err instanceof HttpClosedException || err instanceof VertxException || err instanceof java.io.IOException) {
      return IngressFailure.upstreamUnreachable(err.getMessage() == null ? "connection closed" : err.getMessage());
    }
    return null;
  }

  public static Buffer body(IngressFailure f) {
    return new JsonObject().put("error", new JsonObject()
        .put("message", f.getMessage())
        .put("type", f.type())
        .put("param", f.param())
        .put("code", f.code())).toBuffer();
  }

  /** Sends the error unless the response has already started (then the caller ends the stream its own way). */
  public static void send(HttpServerResponse response, IngressFailure f) {
    sent(response, f);
  }

  /** As {@link #send}; the future of the response's end, or null if nothing was sent. */
  static Future<Void> sent(HttpServerResponse response, IngressFailure f) {
    if (response.headWritten() || response.ended() || response.closed()) {
      return null;
    }
    response.setStatusCode(f.status()).putHeader("content-type", "application/json");
    if (f.retryAfterSeconds() > 0) {
      response.putHeader("retry-after", Long.toString(f.retryAfterSeconds()));
    }
    return response.end(body(f));
  }
}
