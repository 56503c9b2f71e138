package io.inferencegateway.ingress;

import io.inferencegateway.limits.RateLimiter;
import io.inferencegateway.metrics.GatewayMeters;
import io.inferencegateway.metrics.UsageRecord;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.http.HttpServerRequest;

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
  static final long LINGER_MS = PendingBody.LINGER_MS;

  /** Runs an action later, on this event loop. */
  interface Timer extends PendingBody.Timer {
  }

  private final Watchdog watchdog;
  private final RateLimiter limiter;
  private final Consumer<UsageRecord> usage;
  private final GatewayMeters meters;
  private final LongSupplier clockNanos;
  private final Timer timer;
  private ClientLimits limits;

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

  /** The body budget the requests' reserved bytes go back to (none in unit tests). */
  Finish withLimits(ClientLimits limits) {
    this.limits = limits;
    return this;
  }

  void apply(ProxyExchange ex, AsyncResult<Void> outcome) {
    watchdog.unwatch(ex);
    ex.markFinished();
    if (ex.lease != null) {
      ex.lease.release();
    }
    if (ex.ticket != null) {
      ex.ticket.release(); // after the lease: the next waiter sees this replica's place free
    }
    meters.inFlight().decrementAndGet();
    if (ex.reservedBytes > 0 && limits != null) {
      limits.release(ex.key == null ? 0 : ex.key.id(), ex.reservedBytes);
      ex.reservedBytes = 0;
    }
    if (outcome.failed()) {
      IngressFailure f = ex.clientGone() ? IngressFailure.CLIENT_GONE
          : ex.shuttingDown ? IngressFailure.shuttingDown() : OpenAiErrors.classify(outcome.cause());
      refuse(ex.request, f);
      if (f.status() == 401) {
        // no key, nothing to bill: counted, but unauthenticated traffic stays out of the usage table
        meters.unauthorized().increment();
        return;
      }
      ex.status = f.status();
      ex.error = f.detail();
    }
    UsageRecord record = ex.record(clockNanos.getAsLong());
    int settle = record.totalTokens() - ex.reservedTokens; // negative: part of the reservation goes back
    if (ex.key != null && settle != 0) {
      limiter.chargeTokens(ex.key.id(), Admit.tpm(ex.key), settle);
    }
    usage.accept(record);
  }

  /** Answers a refusal; a body still coming is discarded and its connection closed ({@link PendingBody}). */
  private void refuse(HttpServerRequest req, IngressFailure f) {
    boolean bodyPending = PendingBody.beforeAnswer(req);
    Future<Void> sent = OpenAiErrors.sent(req.response(), f);
    if (sent != null && bodyPending) {
      PendingBody.closeAfter(req, sent, timer);
    }
  }
}
