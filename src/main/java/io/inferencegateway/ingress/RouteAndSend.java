package io.inferencegateway.ingress;

import io.inferencegateway.metrics.GatewayMeters;
import io.inferencegateway.routing.Choice;
import io.inferencegateway.routing.ModelRoute;
import io.inferencegateway.routing.ReplicaLease;
import io.inferencegateway.routing.ReplicaRouter;
import io.inferencegateway.routing.ReplicaState;
import io.inferencegateway.routing.RouteHints;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Stage "route and send": leases a replica from the router and sends the request; when the attempt fails before
 * anything reached the client (connect error, connection closed before the answer was read, a 503), judges that
 * replica and tries another, up to {@code router.maxAttempts} replicas in all. A replica that accepted the request
 * and then was too late (the {@link Watchdog}'s timeouts) is neither judged nor replaced: the client gets a 504. No
 * upstream fault becomes a 500. Ends with the answer's head in {@code ex.answer} and the lease of the replica that
 * gave it in {@code ex.lease}. {@link #resend} does the same for a stream's continuation (see {@link StreamResume}).
 */
final class RouteAndSend {

  private static final Logger log = LoggerFactory.getLogger(RouteAndSend.class);

  /** Sends the exchange's request to a replica: the answer's head, or a failure (a 5xx answer is one). */
  interface Upstream {
    Future<HttpClientResponse> send(ProxyExchange ex, ReplicaState replica);
  }

  private final ReplicaRouter router;
  private final Upstream upstream;
  private final int maxAttempts;
  private final GatewayMeters meters;
  private final LongSupplier clockMs;
  private final Function<String, ModelRoute> currentRoute;

  RouteAndSend(ReplicaRouter router, Upstream upstream, int maxAttempts, GatewayMeters meters, LongSupplier clockMs) {
    this(router, upstream, maxAttempts, meters, clockMs, name -> null);
  }

  /** @param currentRoute the model's replicas now, by name (a continuation may go to a replica added since) */
  RouteAndSend(ReplicaRouter router, Upstream upstream, int maxAttempts, GatewayMeters meters, LongSupplier clockMs,
               Function<String, ModelRoute> currentRoute) {
    this.currentRoute = currentRoute;
    this.router = router;
    this.upstream = upstream;
    this.maxAttempts = Math.max(1, maxAttempts);
    this.meters = meters;
    this.clockMs = clockMs;
  }

  Future<Void> apply(ProxyExchange ex) {
    return attempt(ex, ex.parsed.route(), ex.parsed.hints(), null);
  }

  /**
   * Sends a broken stream's continuation to another replica of the model (never one that broke this stream), with
   * the same fail-over as the first request; the current lease must have been released.
   */
  Future<Void> resend(ProxyExchange ex, Buffer body, Iterable<Long> exclude) {
    ex.continuationBody = body;
    ex.answer = null;
    ex.answerBody = null;
    ex.attempts = 0;
    RouteHints hints = ex.parsed.hints();
    for (Long id : exclude) {
      hints = hints.excluding(id);
    }
    ModelRoute now = currentRoute.apply(ex.parsed.route().name());
    return attempt(ex, now != null ? now : ex.parsed.route(), hints, null);
  }

  private Future<Void> attempt(ProxyExchange ex, ModelRoute route, RouteHints hints, IngressFailure previous) {
    if (ex.clientGone()) {
      return Future.failedFuture(IngressFailure.CLIENT_GONE);
    }
    Choice choice = router.choose(route, hints, ex.ticket == null ? 0 : ex.ticket.keepFree());
    if (choice.lease() == null) {
      return Future.failedFuture(previous != null ? previous : choice.allBusy()
          ? IngressFailure.replicasBusy(route.name(), choice.retryAfterMs()) : IngressFailure.noReplica(route.name()));
    }
    ReplicaLease lease = choice.lease();
    if (choice.affinityHit() || choice.affinityMiss()) {
      meters.affinity(route.name(), choice.affinityHit());
    }
    if (log.isDebugEnabled()) {
      log.debug("{} {} of key {}: replica {} ({}), {}, in flight {} ({} computing prompts), score {}", ex.op,
          route.name(), ex.key == null ? null : ex.key.id(), lease.replica().id(), lease.replica().target().baseUrl(),
          choice.reason(), lease.replica().inFlight(), lease.replica().awaitingFirstByte(),
          lease.replica().view(clockMs.getAsLong(), Long.MAX_VALUE).score());
    }
    if (ex.parsed.stream()) {
      lease.streamed();
    }
    if (ex.ticket != null) {
      ex.ticket.routed();
    }
    ex.lease = lease;
    ex.attempts++;
    return upstream.send(ex, lease.replica()).transform(ar -> {
      if (ar.succeeded()) {
        ex.answer = ar.result();
        lease.succeeded(); // it answered (a 4xx is the request's fault, not the replica's)
        return Future.succeededFuture();
      }
      if (ex.clientGone()) {
        return Future.failedFuture(IngressFailure.CLIENT_GONE); // no verdict on the replica: the release is neutral
      }
      if (ex.shuttingDown) {
        return Future.failedFuture(OpenAiErrors.classify(ar.cause())); // the gateway's own shutdown: no verdict either
      }
      if (ex.timedOut != null) {
        // the replica took the request and is working on it, or hangs: either way not a reason to open its breaker
        // or to start the same long generation on another GPU
        return Future.failedFuture(IngressFailure.acceptedTimeout(ex.timedOut));
      }
      IngressFailure failure = classify(ar.cause());
      boolean severe = "upstream_unreachable".equals(failure.code()) || "upstream_timeout".equals(failure.code());
      lease.failed(clockMs.getAsLong(), severe, failure.detail());
      if (!failure.retryable() || ex.attempts >= maxAttempts) {
        return Future.failedFuture(failure);
      }
      lease.retriedElsewhere();
      lease.release();
      meters.failover(route.name());
      return attempt(ex, route, hints.excluding(lease.replica().id()), failure);
    });
  }

  /** An upstream failure as the client should see it: never a 500, whatever the exception. */
  static IngressFailure classify(Throwable err) {
    if (err instanceof IngressFailure f) {
      return f;
    }
    IngressFailure f = OpenAiErrors.classifyQuietly(err);
    if (f != null) {
      return f;
    }
    String detail = err.getMessage() == null ? err.getClass().getSimpleName() : err.getMessage();
    return IngressFailure.upstreamBroken(detail);
  }
}
