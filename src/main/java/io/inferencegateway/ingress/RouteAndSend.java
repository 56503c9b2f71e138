package io.inferencegateway.ingress;

import io.inferencegateway.metrics.GatewayMeters;
import io.inferencegateway.routing.Choice;
import io.inferencegateway.routing.ModelRoute;
import io.inferencegateway.routing.ReplicaLease;
import io.inferencegateway.routing.ReplicaRouter;
import io.inferencegateway.routing.ReplicaState;
import io.inferencegateway.routing.RouteHints;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClientResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.LongSupplier;

/**
 * Stage "route and send": leases a replica from the router and sends the request; when the attempt fails before
 * anything reached the client (connect error, connection closed before an answer, a 503, no first byte in time),
 * judges that replica and tries another, up to {@code router.maxAttempts} replicas in all. Ends with the answer's
 * head in {@code ex.answer} and the lease of the replica that gave it in {@code ex.lease}.
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

  RouteAndSend(ReplicaRouter router, Upstream upstream, int maxAttempts, GatewayMeters meters, LongSupplier clockMs) {
    this.router = router;
    this.upstream = upstream;
    this.maxAttempts = Math.max(1, maxAttempts);
    this.meters = meters;
    this.clockMs = clockMs;
  }

  Future<Void> apply(ProxyExchange ex) {
    return attempt(ex, ex.parsed.hints(), null);
  }

  private Future<Void> attempt(ProxyExchange ex, RouteHints hints, IngressFailure previous) {
    if (ex.clientGone()) {
      return Future.failedFuture(IngressFailure.CLIENT_GONE);
    }
    ModelRoute route = ex.parsed.route();
    Choice choice = router.choose(route, hints);
    if (choice.lease() == null) {
      return Future.failedFuture(previous != null ? previous : choice.allBusy()
          ? IngressFailure.replicasBusy(route.name(), choice.retryAfterMs()) : IngressFailure.noReplica(route.name()));
    }
    ReplicaLease lease = choice.lease();
    if (choice.affinityHit() || choice.affinityMiss()) {
      meters.affinity(route.name(), choice.affinityHit());
    }
    if (log.isDebugEnabled()) {
      log.debug("{} {}: replica {} ({}), {}, in flight {}, score {}", ex.op, route.name(), lease.replica().id(),
          lease.replica().target().baseUrl(), choice.reason(), lease.replica().inFlight(),
          lease.replica().view(clockMs.getAsLong(), Long.MAX_VALUE).score());
    }
    ex.lease = lease;
    ex.attempts++;
    return upstream.send(ex, lease.replica()).transform(ar -> {
      if (ar.succeeded()) {
        ex.answer = ar.result();
        lease.succeeded(); // it answered (a 4xx is the request's fault, not the replica's)
        return Future.succeededFuture();
      }
      IngressFailure failure = OpenAiErrors.classify(ar.cause());
      if (ex.clientGone() || ex.shuttingDown) {
        return Future.failedFuture(failure); // no verdict on the replica: the lease's release is neutral
      }
      boolean severe = "upstream_unreachable".equals(failure.code()) || "upstream_timeout".equals(failure.code());
      lease.failed(clockMs.getAsLong(), severe, failure.detail());
      if (!failure.retryable() || ex.attempts >= maxAttempts) {
        return Future.failedFuture(failure);
      }
      lease.retriedElsewhere();
      lease.release();
      meters.failover(route.name());
      return attempt(ex, hints.excluding(lease.replica().id()), failure);
    });
  }
}
