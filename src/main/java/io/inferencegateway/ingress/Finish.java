package io.inferencegateway.ingress;

import io.inferencegateway.limits.RateLimiter;
import io.inferencegateway.metrics.GatewayMeters;
import io.inferencegateway.metrics.UsageRecord;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;

import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The one place where a request ends, whatever happened (answered, refused, client gone, upstream broken, timed
 * out): stops its timers, releases its replica lease, answers a refusal in OpenAI's error shape if nothing was sent
 * yet, charges the tokens used to the key and hands the usage record to the metrics writer. Runs exactly once per
 * request (it is the last step of the pipeline's one future chain).
 */
final class Finish {

  /** How long a refused client may go on sending the body no one reads before its connection is closed. */
  static final long LINGER_MS = 2000;

  /** Runs an action later, on this event loop. */
  interface Timer {
    void after(long delayMs, Runnable action);
  }

  private final Watchdog watchdog;
  private final RateLimiter limiter;
  private final Consumer<UsageRecord> usage;
  private final GatewayMeters meters;
  private final LongSupplier clockNanos;
  private final Timer timer;

  /** @param usage where usage records go (the event loop's batcher to the metrics writer) */
  Finish(Watchdog watchdog, RateLimiter limiter, Consumer<UsageRecord> usage, GatewayMeters meters,
         LongSupplier clockNanos, Timer timer) {
    this.timer = timer;
    this.watchdog = watchdog;
    this.limiter = limiter;
    this.usage = usage;
    this.meters = meters;
    this.clockNanos = clockNanos;
  }

  void apply(ProxyExchange ex, AsyncResult<Void> outcome) {
    watchdog.unwatch(ex);
    ex.markFinished();
    if (ex.lease != null) {
      ex.lease.release();
    }
    meters.inFlight().decrementAndGet();
    if (outcome.failed()) {
      IngressFailure f = ex.clientGone() ? IngressFailure.CLIENT_GONE : OpenAiErrors.classify(outcome.cause());
      refuse(ex.request, f);
      if (f.status() == 401) {
        // no key, nothing to bill: counted, but unauthenticated traffic stays out of the usage table
        meters.unauthorized().increment();
        return;
      }
      ex.status = f.status();
      ex.error = f.getMessage();
    }
    UsageRecord record = ex.record(clockNanos.getAsLong());
    if (ex.key != null && record.totalTokens() > 0) {
      limiter.chargeTokens(ex.key.id(), Admit.tpm(ex.key), record.totalTokens());
    }
    usage.accept(record);
  }

  /**
   * Answers a refusal. If the client is still sending a body no one will read, an HTTP/1 connection is closed once
   * that body ends, or after {@link #LINGER_MS} at most: the body is discarded as it comes, never buffered, and closing
   * at once could make the client lose the answer (a close with unread data resets the connection).
   */
  private void refuse(HttpServerRequest req, IngressFailure f) {
    boolean bodyPending = !req.isEnded() && req.version() != HttpVersion.HTTP_2;
    HttpServerResponse response = req.response();
    if (bodyPending && !response.headWritten()) {
      response.putHeader(HttpHeaders.CONNECTION, "close");
    }
    Future<Void> sent = OpenAiErrors.sent(response, f);
    if (sent != null && bodyPending) {
      sent.onComplete(ar -> {
        Runnable close = () -> req.connection().close();
        req.handler(discarded -> { }).endHandler(v -> close.run());
        req.resume();
        timer.after(LINGER_MS, close);
      });
    }
  }
}
