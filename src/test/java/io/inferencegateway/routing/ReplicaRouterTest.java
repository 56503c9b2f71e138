package io.inferencegateway.routing;

import io.inferencegateway.config.ConfigLoader;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.store.ReplicaRow;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The router's decisions over a snapshot of replica state, without any network. */
class ReplicaRouterTest {

  static final GatewayConfig.Router SETTINGS = GatewayConfig.fromJson(ConfigLoader.bundledDefaults()).router();
  final ReplicaRouter router = new ReplicaRouter(SETTINGS);

  static ReplicaState replica(long id, Integer rateLimit, String status) {
    ReplicaRow row = new ReplicaRow(id, 1, "http://10.0.0." + id + ":8000", rateLimit, null, null, status, null, null,
        null, null, null, null, null, null, null, Instant.now(), Instant.now());
    return new ReplicaState(row, "m", UpstreamTarget.parse(row.endpoint()), SETTINGS.breaker());
  }

  static ModelRoute model(boolean affinity, ReplicaState... replicas) {
    return new ModelRoute(1, "m", "least-in-flight", RoutingStrategy.LEAST_IN_FLIGHT, affinity, List.of(replicas));
  }

  @Test
  void skipsUnhealthyPendingOpenAndExcludedReplicas() {
    ReplicaState down = replica(1, null, ReplicaRow.SUCCESS);
    down.markHealth(false, "gone");
    ReplicaState pending = replica(2, null, ReplicaRow.PENDING);
    ReplicaState open = replica(3, null, ReplicaRow.SUCCESS);
    open.failed(System.currentTimeMillis(), true, "refused");
    ReplicaState tried = replica(4, null, ReplicaRow.SUCCESS);
    ReplicaState good = replica(5, null, ReplicaRow.SUCCESS);
    ModelRoute m = model(false, down, pending, open, tried, good);
    Choice c = router.choose(m, new RouteHints(0, false, Set.of(4L)));
    assertThat(c.replica()).isSameAs(good);
    assertThat(router.choose(m, new RouteHints(0, false, Set.of(4L, 5L))).replica()).isNull();
    assertThat(router.choose(m, new RouteHints(0, false, Set.of(4L, 5L))).allBusy()).isFalse();
  }

  @Test
  void leastLoadedWinsAndInFlightCountsAsLoad() {
    ReplicaState a = replica(1, null, ReplicaRow.SUCCESS);
    ReplicaState b = replica(2, null, ReplicaRow.SUCCESS);
    a.requestStarted();
    a.requestStarted();
    b.requestStarted();
    assertThat(router.choose(model(false, a, b), RouteHints.NONE).replica()).isSameAs(b);
  }

  @Test
  void replicasAtTheirRateLimitAreSkippedAndAllBusyTellsWhenToRetry() {
    ReplicaState limited = replica(1, 2, ReplicaRow.SUCCESS); // 2 requests per minute
    ReplicaState other = replica(2, 1, ReplicaRow.SUCCESS);
    ModelRoute m = model(false, limited, other);
    long now = 1_000_000;
    int served = 0;
    for (int i = 0; i < 5; i++) {
      served += router.choose(m, RouteHints.NONE, now, n -> 0).replica() != null ? 1 : 0;
    }
    assertThat(served).isEqualTo(3);
    Choice busy = router.choose(m, RouteHints.NONE, now, n -> 0);
    assertThat(busy.allBusy()).isTrue();
    assertThat(busy.retryAfterMs()).isBetween(1L, 60_000L);
    assertThat(router.choose(m, RouteHints.NONE, now + 30_000, n -> 0).replica()).isSameAs(limited);
  }

  @Test
  void anOpenBreakerLetsExactlyOneProbeThroughAfterItsCoolDown() {
    ReplicaState r = replica(1, null, ReplicaRow.SUCCESS);
    long t = System.currentTimeMillis();
    r.failed(t, true, "timeout");
    ModelRoute m = model(false, r);
    assertThat(router.choose(m, RouteHints.NONE, t + 1, n -> 0).replica()).isNull();
    long later = t + SETTINGS.breaker().maxOpenMs();
    assertThat(router.choose(m, RouteHints.NONE, later, n -> 0).replica()).isSameAs(r);
    assertThat(router.choose(m, RouteHints.NONE, later, n -> 0).replica()).as("probe already out").isNull();
    r.succeeded();
    assertThat(router.choose(m, RouteHints.NONE, later, n -> 0).replica()).isSameAs(r);
  }

  @Test
  void affinityPrefersTheSameReplicaForTheSameKey() {
    ModelRoute m = model(true, replica(1, null, ReplicaRow.SUCCESS), replica(2, null, ReplicaRow.SUCCESS),
        replica(3, null, ReplicaRow.SUCCESS));
    RouteHints hints = new RouteHints(PrefixAffinity.hash("m\u0000user:hello"), true, Set.of());
    long first = router.choose(m, hints).replica().id();
    for (int i = 0; i < 20; i++) {
      ReplicaLease lease = router.choose(m, hints).lease();
      assertThat(lease.replica().id()).isEqualTo(first);
      lease.release();
    }
  }

  @Test
  void withFairAdmissionsInFlightCapAFullReplicaIsPassedOverWhileAnotherHasRoom() {
    ReplicaState a = replica(1, null, ReplicaRow.SUCCESS);
    ReplicaState b = replica(2, null, ReplicaRow.SUCCESS);
    ModelRoute m = model(true, a, b);
    RouteHints hints = new RouteHints(PrefixAffinity.hash("m\u0000user:capped"), true, Set.of());
    ReplicaRouter uncapped = new ReplicaRouter(SETTINGS);
    ReplicaRouter capped = new ReplicaRouter(SETTINGS, false, 2);
    a.requestStarted();
    Choice first = uncapped.choose(m, hints, 1000, n -> 0);
    assertThat(first.replica()).as("least loaded: b has 0").isSameAs(b);
    first.lease().firstByte(); // decoding: no longer counted as a prefill ahead of newcomers
    Choice second = capped.choose(m, hints, 1000, n -> 0);
    assertThat(second.replica()).as("least loaded: b has 1").isSameAs(b);
    second.lease().firstByte();
    // b is at the cap (2), a has room (1): the key's replica is within the affinity bound (2 <= 1.25 x 1 + 2)
    Choice stays = uncapped.choose(m, hints, 1000, n -> 0);
    assertThat(stays.replica()).isSameAs(b);
    stays.lease().release();
    Choice moves = capped.choose(m, hints, 1000, n -> 0);
    assertThat(moves.replica()).as("b's vLLM has no batch slot free, a has").isSameAs(a);
    assertThat(moves.reason()).isEqualTo(Choice.REBALANCED);
    moves.lease().release();
    // every replica at the cap: the cap refuses nothing (the admission gate queues), the scores decide
    a.requestStarted();
    Choice full = capped.choose(m, hints, 1000, n -> 0);
    assertThat(full.replica()).isNotNull();
    full.lease().release();
  }

  @Test
  void aRequestOfAKeyAtItsFairShareLeavesEachReplicaItsReservedSlotWhereItCan() {
    ReplicaState a = replica(1, null, ReplicaRow.SUCCESS);
    ReplicaState b = replica(2, null, ReplicaRow.SUCCESS);
    ModelRoute m = model(true, a, b);
    ReplicaRouter capped = new ReplicaRouter(SETTINGS, false, 4);
    for (int i = 0; i < 3; i++) {
      a.requestStarted();
      a.firstByteCame();
    }
    b.requestStarted();
    b.requestStarted(); // b: 2 in flight, both still computing their prompts: placement score 4 > a's 3
    Choice anyKey = capped.choose(m, hints("k1"), 0, 1000, n -> 0);
    assertThat(anyKey.replica()).as("no reserve: the lower score, a (3 of 4)").isSameAs(a);
    anyKey.lease().release();
    Choice heavy = capped.choose(m, hints("k2"), 1, 1000, n -> 0);
    assertThat(heavy.replica()).as("a would use its last slot: b has room beyond the reserve").isSameAs(b);
    heavy.lease().release();
    b.requestStarted(); // both at 3 of 4: the reserve cannot be kept anywhere, the scores decide
    Choice either = capped.choose(m, hints("k3"), 1, 1000, n -> 0);
    assertThat(either.replica()).isSameAs(a);
    either.lease().release();
  }

  @Test
  void withTheCapANewRequestAvoidsAReplicaComputingAStreamedPromptButAKnownConversationStays() {
    ReplicaState a = replica(1, null, ReplicaRow.SUCCESS);
    ReplicaState b = replica(2, null, ReplicaRow.SUCCESS);
    ModelRoute m = model(true, a, b);
    ReplicaRouter capped = new ReplicaRouter(SETTINGS, false, 8);
    for (int i = 0; i < 4; i++) {
      b.requestStarted();
      b.firstByteCame();
    }
    Choice first = capped.choose(m, hints("conversation"), 0, 1000, n -> 0);
    assertThat(first.replica()).as("least loaded").isSameAs(a);
    first.lease().streamed(); // a computes this stream's prompt
    assertThat(a.streamsComputingPrompts()).isEqualTo(1);
    Choice other = capped.choose(m, hints("another"), 0, 1000, n -> 0);
    assertThat(other.replica()).as("a new request goes where no prompt is being computed, busier as b is").isSameAs(b);
    other.lease().release();
    Choice again = capped.choose(m, hints("conversation"), 0, 1000, n -> 0);
    assertThat(again.replica()).as("its prefix is cached on a: affinity wins").isSameAs(a);
    again.lease().release();
    assertThat(first.lease().firstByte()).as("the first byte ends the prompt").isTrue();
    assertThat(first.lease().firstByte()).isFalse();
    assertThat(a.streamsComputingPrompts()).isZero();
    first.lease().release();
    assertThat(a.streamsComputingPrompts()).isZero();
    ReplicaRouter uncapped = new ReplicaRouter(SETTINGS);
    Choice streaming = uncapped.choose(m, hints("third"), 0, 1000, n -> 0);
    streaming.lease().streamed();
    Choice plain = uncapped.choose(m, hints("fourth"), 0, 1000, n -> 0);
    assertThat(plain.replica()).as("without the cap the scores alone decide").isSameAs(streaming.replica());
    plain.lease().release();
    streaming.lease().release();
    assertThat(a.streamsComputingPrompts()).as("a release ends the count too").isZero();
  }

  static RouteHints hints(String key) {
    return new RouteHints(PrefixAffinity.hash("m\u0000user:" + key), true, Set.of());
  }

  @Test
  void aNewKeyGoesToTheLeastLoadedReplicaAndStaysThereUntilItIsClearlyBusier() {
    ReplicaState a = replica(1, null, ReplicaRow.SUCCESS);
    ReplicaState b = replica(2, null, ReplicaRow.SUCCESS);
    ReplicaState c = replica(3, null, ReplicaRow.SUCCESS);
    ModelRoute m = model(true, a, b, c);
    a.requestStarted();
    c.requestStarted();
    RouteHints hints = new RouteHints(PrefixAffinity.hash("m\u0000system:s\nuser:q1"), true, Set.of());
    Choice first = router.choose(m, hints, 1000, n -> 0);
    assertThat(first.replica()).as("the least loaded").isSameAs(b);
    assertThat(first.reason()).isEqualTo(Choice.NEW_KEY);
    assertThat(first.affinityMiss()).isTrue();
    for (int i = 0; i < 3; i++) { // b now carries 4, the others 1: within 1.25 x 1 + 2
      Choice again = router.choose(m, hints, 1000, n -> 0);
      assertThat(again.replica()).isSameAs(b);
      assertThat(again.affinityHit()).isTrue();
    }
    b.requestStarted(); // 5 > 1.25 x 1 + 2: moves to the least loaded, which becomes the key's replica
    Choice moved = router.choose(m, hints, 1000, n -> 0);
    assertThat(moved.reason()).isEqualTo(Choice.REBALANCED);
    assertThat(moved.replica()).isNotSameAs(b);
    assertThat(router.choose(m, hints, 1000, n -> 0).replica()).isSameAs(moved.replica());
    assertThat(router.choose(model(false, a, b, c), hints, 1000, n -> 0).reason()).isEqualTo(Choice.STRATEGY);
  }

  @Test
  void inClusterModeInstancesPlaceANewKeyOnTheSameReplicaWithoutSharingState() {
    // three routers stand for three gateway instances: each its own table and its own random tie-breaks
    List<ReplicaRouter> instances = List.of(new ReplicaRouter(SETTINGS, true), new ReplicaRouter(SETTINGS, true),
        new ReplicaRouter(SETTINGS, true));
    java.util.Set<Long> used = new java.util.HashSet<>();
    for (int conversation = 0; conversation < 40; conversation++) {
      ModelRoute m = model(true, replica(1, null, ReplicaRow.SUCCESS), replica(2, null, ReplicaRow.SUCCESS),
          replica(3, null, ReplicaRow.SUCCESS));
      RouteHints hints = new RouteHints(PrefixAffinity.hash("m\u0000u:conversation " + conversation), true, Set.of());
      long expected = Rendezvous.choose(hints.affinityHash(), List.of(1L, 2L, 3L));
      for (int k = 0; k < instances.size(); k++) {
        int tieBreak = k;
        Choice c = instances.get(k).choose(m, hints, 1000, n -> tieBreak % n);
        assertThat(c.replica().id()).isEqualTo(expected);
      }
      used.add(expected);
    }
    assertThat(used).containsExactlyInAnyOrder(1L, 2L, 3L);
  }

  @Test
  void inClusterModeTheRendezvousReplicaGivesWayWhenClearlyBusier() {
    ReplicaState a = replica(1, null, ReplicaRow.SUCCESS);
    ReplicaState b = replica(2, null, ReplicaRow.SUCCESS);
    ModelRoute m = model(true, a, b);
    RouteHints hints = new RouteHints(PrefixAffinity.hash("m\u0000u:busy"), true, Set.of());
    ReplicaState agreed = Rendezvous.choose(hints.affinityHash(), List.of(1L, 2L)) == 1L ? a : b;
    for (int i = 0; i < 3; i++) {
      agreed.requestStarted(); // 3 > 1.25 x 0 + 2
    }
    Choice c = new ReplicaRouter(SETTINGS, true).choose(m, hints, 1000, n -> 0);
    assertThat(c.replica()).isNotSameAs(agreed);
    assertThat(c.reason()).isEqualTo(Choice.NEW_KEY);
  }
}
