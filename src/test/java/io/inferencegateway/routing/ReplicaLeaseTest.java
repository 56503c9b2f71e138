package io.inferencegateway.routing;

import io.inferencegateway.config.ConfigLoader;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.store.ReplicaRow;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A lease owns one request's place on a replica: in-flight count, breaker slot, verdict, released exactly once. */
class ReplicaLeaseTest {

  static final GatewayConfig.Router SETTINGS = GatewayConfig.fromJson(ConfigLoader.bundledDefaults()).router();
  static final long T0 = 1_000_000;

  final ReplicaRouter router = new ReplicaRouter(SETTINGS);

  static ReplicaState replica() {
    ReplicaRow row = new ReplicaRow(1, 1, "http://10.0.0.1:8000", null, null, null, ReplicaRow.SUCCESS, null, null,
        null, null, null, null, null, null, null, Instant.now(), Instant.now());
    return new ReplicaState(row, "m", UpstreamTarget.parse(row.endpoint()), SETTINGS.breaker());
  }

  ReplicaLease lease(ReplicaState r, long now) {
    ModelRoute m = new ModelRoute(1, "m", "least-in-flight", RoutingStrategy.LEAST_IN_FLIGHT, false, List.of(r));
    return router.choose(m, RouteHints.NONE, now, n -> 0).lease();
  }

  /** A replica whose breaker is half-open: the next lease holds its only probe. */
  static ReplicaState halfOpen(long now) {
    ReplicaState r = replica();
    r.failed(T0, true, "refused");
    assertThat(r.breaker().mayAllow(now)).isTrue();
    return r;
  }

  @Test
  void countsInFlightFromLeaseToReleaseAndReleasesOnce() {
    ReplicaState r = replica();
    ReplicaLease a = lease(r, T0);
    ReplicaLease b = lease(r, T0);
    assertThat(r.inFlight()).isEqualTo(2);
    assertThat(r.requests()).isEqualTo(2);
    a.release();
    a.release();
    assertThat(a.released()).isTrue();
    assertThat(r.inFlight()).as("a second release does nothing").isEqualTo(1);
    b.release();
    assertThat(r.inFlight()).isZero();
  }

  @Test
  void countsARequestAsPrefillingUntilItsFirstByteOrItsEnd() {
    ReplicaState r = replica();
    ReplicaLease answered = lease(r, T0);
    ReplicaLease neverAnswered = lease(r, T0);
    assertThat(r.awaitingFirstByte()).isEqualTo(2);
    answered.firstByte();
    answered.firstByte();
    assertThat(r.awaitingFirstByte()).as("once per lease").isEqualTo(1);
    assertThat(r.view(T0, 1000).awaitingFirstByte()).isEqualTo(1);
    assertThat(r.view(T0, 1000).placementScore()).as("2 in flight, 1 of them still prefilling").isEqualTo(3);
    neverAnswered.release();
    assertThat(r.awaitingFirstByte()).as("the release ends the wait").isZero();
    answered.release();
    answered.firstByte();
    assertThat(r.awaitingFirstByte()).as("nothing after the release").isZero();
    assertThat(r.inFlight()).isZero();
  }

  @Test
  void aNeutralEndFreesTheProbeWithoutJudgingTheReplica() {
    long later = T0 + SETTINGS.breaker().maxOpenMs();
    ReplicaState r = halfOpen(later);
    ReplicaLease probe = lease(r, later);
    assertThat(probe).isNotNull();
    assertThat(r.breaker().state()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
    assertThat(lease(r, later)).as("one probe at a time").isNull();
    probe.release(); // the client left: no verdict
    assertThat(r.breaker().state()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
    assertThat(r.failures()).isEqualTo(1);
    assertThat(lease(r, later)).as("the probe slot is free again").isNotNull();
  }

  @Test
  void successClosesTheBreakerAndALaterFailureStillCounts() {
    long later = T0 + SETTINGS.breaker().maxOpenMs();
    ReplicaState r = halfOpen(later);
    ReplicaLease probe = lease(r, later);
    probe.succeeded();
    assertThat(r.breaker().state()).isEqualTo(CircuitBreaker.State.CLOSED);
    probe.succeeded();
    probe.failed(later, false, "stream interrupted");
    assertThat(r.failures()).as("a stream that broke after a good start counts against the replica").isEqualTo(2);
    assertThat(r.lastError()).isEqualTo("stream interrupted");
    probe.release();
    assertThat(r.inFlight()).isZero();
  }

  @Test
  void aSevereFailureOpensTheBreakerAndNothingCountsAfterRelease() {
    ReplicaState r = replica();
    ReplicaLease l = lease(r, T0);
    l.failed(T0, true, "connection refused");
    assertThat(r.breaker().state()).isEqualTo(CircuitBreaker.State.OPEN);
    l.retriedElsewhere();
    assertThat(r.retries()).isEqualTo(1);
    l.release();
    l.failed(T0, true, "late");
    assertThat(r.failures()).as("a released lease judges nothing").isEqualTo(1);
  }
}
