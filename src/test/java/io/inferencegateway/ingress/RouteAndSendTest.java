package io.inferencegateway.ingress;

import io.inferencegateway.metrics.GatewayMeters;
import io.inferencegateway.routing.ModelRegistry;
import io.inferencegateway.routing.ModelRoute;
import io.inferencegateway.routing.ReplicaRouter;
import io.inferencegateway.routing.ReplicaState;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClientResponse;
import org.junit.jupiter.api.Test;

import java.net.ConnectException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/** Stage "route and send" with a scripted upstream: fail-over, verdicts, and what is never retried. */
class RouteAndSendTest {

  static final long NOW = 1_000_000;

  final ModelRegistry registry = Stages.registry(3, "m");
  final ModelRoute route = registry.model("m");
  final GatewayMeters meters = new GatewayMeters(new SimpleMeterRegistry());
  final List<Long> tried = new ArrayList<>();

  /** A stage whose upstream answers each attempt with {@code answer} (of the replica). */
  RouteAndSend stage(Function<ReplicaState, Future<HttpClientResponse>> answer, int maxAttempts) {
    return new RouteAndSend(new ReplicaRouter(Stages.CONFIG.router()), (ex, replica) -> {
      tried.add(replica.id());
      return answer.apply(replica);
    }, maxAttempts, meters, () -> NOW);
  }

  ProxyExchange request() {
    ProxyExchange ex = Stages.exchange(Operation.CHAT);
    ex.parsed = Stages.parsed(route, false);
    return ex;
  }

  long inFlight() {
    return route.replicas().stream().mapToInt(ReplicaState::inFlight).sum();
  }

  @Test
  void anAnsweringReplicaIsJudgedAndKeptLeased() {
    ProxyExchange ex = request();
    assertThat(stage(r -> Future.succeededFuture(null), 3).apply(ex).succeeded()).isTrue();
    assertThat(tried).hasSize(1);
    assertThat(ex.lease.released()).isFalse();
    assertThat(inFlight()).isEqualTo(1);
    ex.lease.release();
    assertThat(inFlight()).isZero();
  }

  @Test
  void unreachableReplicasAreSkippedUntilOneAnswers() {
    ProxyExchange ex = request();
    var result = stage(r -> tried.size() < 3 ? Future.failedFuture(new ConnectException("refused"))
        : Future.succeededFuture(null), 3).apply(ex);
    assertThat(result.succeeded()).isTrue();
    assertThat(tried).as("three different replicas").doesNotHaveDuplicates().hasSize(3);
    assertThat(ex.attempts).isEqualTo(3);
    assertThat(inFlight()).as("only the answering replica's lease is held").isEqualTo(1);
    assertThat(route.replicas().stream().mapToLong(ReplicaState::retries).sum()).isEqualTo(2);
    assertThat(meters.registry().find("gateway_failovers").counter().count()).isEqualTo(2);
  }

  @Test
  void whenEveryAttemptFailsTheLastFailureIsTheAnswer() {
    ProxyExchange ex = request();
    var result = stage(r -> Future.failedFuture(new ConnectException("refused " + r.id())), 2).apply(ex);
    IngressFailure f = (IngressFailure) result.cause();
    assertThat(f.status()).isEqualTo(502);
    assertThat(f.detail()).as("logged and recorded").contains("refused " + tried.get(1));
    assertThat(f.getMessage()).as("what the client reads names no address").doesNotContain("refused");
    assertThat(tried).hasSize(2);
    assertThat(ex.lease.replica().id()).as("the record names the last replica tried").isEqualTo(tried.get(1));
  }

  @Test
  void aFailureThatMayHaveReachedTheModelIsNotRetried() {
    ProxyExchange ex = request();
    var result = stage(r -> Future.failedFuture(IngressFailure.upstreamError(500)), 3).apply(ex);
    assertThat(((IngressFailure) result.cause()).status()).isEqualTo(502);
    assertThat(tried).hasSize(1);
    assertThat(ex.lease.replica().failures()).isEqualTo(1);
  }

  @Test
  void aClientThatLeftIsNeitherRetriedNorHeldAgainstTheReplica() {
    ProxyExchange ex = request();
    var result = stage(r -> {
      ex.markClientGone();
      return Future.failedFuture(new ConnectException("reset by us"));
    }, 3).apply(ex);
    assertThat(result.failed()).isTrue();
    assertThat(tried).hasSize(1);
    assertThat(ex.lease.replica().failures()).isZero();
    assertThat(stage(r -> Future.succeededFuture(null), 3).apply(ex).cause())
        .as("nothing is sent for a client that left").isSameAs(IngressFailure.CLIENT_GONE);
  }

  @Test
  void noHealthyReplicaIs503() {
    route.replicas().forEach(r -> r.markHealth(false, "down"));
    IngressFailure f = (IngressFailure) stage(r -> Future.succeededFuture(null), 3).apply(request()).cause();
    assertThat(f.status()).isEqualTo(503);
    assertThat(f.code()).isEqualTo("no_healthy_replica");
  }

  @Test
  void aReplicaThatAcceptedTheRequestAndTimedOutIsNeitherJudgedNorReplaced() {
    ProxyExchange ex = request();
    var result = stage(r -> {
      ex.timedOut = "no answer from the model server within 3000 ms"; // what the watchdog notes before its reset
      return Future.failedFuture(new java.util.concurrent.TimeoutException(ex.timedOut));
    }, 3).apply(ex);
    IngressFailure f = (IngressFailure) result.cause();
    assertThat(f.status()).isEqualTo(504);
    assertThat(f.code()).isEqualTo("upstream_timeout");
    assertThat(f.getMessage()).contains("within 3000 ms");
    assertThat(tried).as("not started again on another GPU").hasSize(1);
    ReplicaState replica = ex.lease.replica();
    assertThat(replica.failures()).isZero();
    ex.lease.release();
    assertThat(replica.breaker().state()).isEqualTo(io.inferencegateway.routing.CircuitBreaker.State.CLOSED);
  }

  @Test
  void anUpstreamFailureOfNoKnownKindIsA502AndTriedElsewhereNeverA500() {
    ProxyExchange ex = request();
    var result = stage(r -> tried.size() < 2 ? Future.failedFuture(new IllegalStateException("odd"))
        : Future.succeededFuture(null), 3).apply(ex);
    assertThat(result.succeeded()).isTrue();
    assertThat(tried).hasSize(2);
    IngressFailure f = (IngressFailure) stage(r -> Future.failedFuture(new IllegalStateException("odd")), 1)
        .apply(request()).cause();
    assertThat(f.status()).isEqualTo(502);
  }

  @Test
  void aContinuationAvoidsTheReplicasThatBrokeTheStream() {
    ProxyExchange ex = request();
    RouteAndSend stage = stage(r -> Future.succeededFuture(null), 3);
    assertThat(stage.apply(ex).succeeded()).isTrue();
    long first = ex.lease.replica().id();
    ex.lease.release();
    io.vertx.core.buffer.Buffer body = io.vertx.core.buffer.Buffer.buffer("{\"continued\":true}");
    assertThat(stage.resend(ex, body, List.of(first)).succeeded()).isTrue();
    assertThat(ex.lease.replica().id()).isNotEqualTo(first);
    assertThat(ex.upstreamBody()).isSameAs(body);
    ex.lease.release();
    assertThat(stage.resend(ex, body, route.replicas().stream().map(ReplicaState::id).toList()).cause())
        .as("no replica left").isInstanceOf(IngressFailure.class);
  }
}
