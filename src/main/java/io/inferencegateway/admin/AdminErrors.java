package io.inferencegateway.admin;

import io.netty.handler.codec.http.HttpResponseStatus;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.ConnectException;
import java.sql.SQLTransientConnectionException;
import java.util.concurrent.TimeoutException;

/** The one place where failures of admin routes become HTTP responses, in the toolkit's error shapes. */
final class AdminErrors {

  private static final Logger log = LoggerFactory.getLogger(AdminErrors.class);

  private AdminErrors() {}

  /** Failure handler of every admin route (also receives BodyHandler's 413 and vertx-web's status-only failures). */
  static void handle(RoutingContext ctx) {
    send(ctx, classify(ctx.failure(), ctx.statusCode(), ctx));
  }

  static AdminFailure classify(Throwable err, int statusCode, RoutingContext ctx) {
    if (err instanceof AdminFailure f) {
      return f;
    }
    if (err == null && statusCode >= 400 && statusCode < 500) {
      return AdminFailure.error(statusCode, HttpResponseStatus.valueOf(statusCode).reasonPhrase());
    }
    if (databaseUnavailable(err)) {
      log.warn("Admin request {} {} failed: the database is unavailable ({})", ctx.request().method(),
          ctx.request().path(), err.getMessage());
      return AdminFailure.error(503, "The database is unavailable; try again shortly.");
    }
    log.error("Unhandled failure on {} {}", ctx.request().method(), ctx.request().path(), err);
    return AdminFailure.error(500, "The gateway failed to handle the request.");
  }

  private static boolean databaseUnavailable(Throwable err) {
    for (Throwable t = err; t != null; t = t.getCause()) {
      if (t instanceof ConnectException || t instanceof SQLTransientConnectionException
          || t instanceof TimeoutException || t instanceof io.vertx.sqlclient.ClosedConnectionException) {
        return true;
      }
      String m = t.getMessage();
      if (m != null && (m.contains("Timeout") && m.contains("connection") || m.contains("Connection refused"))) {
        return true;
      }
    }
    return false;
  }

  static void send(RoutingContext ctx, AdminFailure f) {
    HttpServerResponse response = ctx.response();
    if (response.headWritten() || response.ended() || response.closed()) {
      return;
    }
    response.setStatusCode(f.status()).putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
    if (f.status() == 401) {
      response.putHeader("WWW-Authenticate", "Bearer realm=\"inference-gateway\"");
    }
    if (f.retryAfterSeconds() > 0) {
      response.putHeader(HttpHeaders.RETRY_AFTER, Long.toString(f.retryAfterSeconds()));
    }
    // a body still coming (refused before it was read): answered at once, the rest discarded, the connection closed
    boolean bodyPending = io.inferencegateway.ingress.PendingBody.beforeAnswer(ctx.request());
    io.vertx.core.Future<Void> sent = response.end(f.body().toBuffer());
    if (bodyPending) {
      io.inferencegateway.ingress.PendingBody.closeAfter(ctx.request(), sent,
          (delayMs, action) -> ctx.vertx().setTimer(delayMs, id -> action.run()));
    }
  }
}
