package io.inferencegateway.routing;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.IntUnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;

/** Strategies and prefix affinity as pure functions over replica views. */
class RoutingStrategyTest {

  final Random random = new Random(7);
  final IntUnaryOperator rnd = random::nextInt;

  static ReplicaView idle(long id) {
    return new ReplicaView(id, 0, null, 1);
  }

  @Test
  void powerOfTwoChoicesPrefersTheLessLoadedOfTheTwo() {
    List<ReplicaView> two = List.of(new ReplicaView(1, 9, null, 1), new ReplicaView(2, 1, null, 1));
    for (int i = 0; i < 50; i++) {
      assertThat(RoutingStrategy.POWER_OF_TWO.pick(two, RouteHints.NONE, rnd)).isEqualTo(1);
    }
  }

  @Test
  void powerOfTwoChoicesRarelyPicksTheBusiestOfMany() {
    List<ReplicaView> views = List.of(new ReplicaView(1, 50, null, 1), idle(2), idle(3), idle(4));
    int busiest = 0;
    for (int i = 0; i < 1000; i++) {
      busiest += RoutingStrategy.POWER_OF_TWO.pick(views, RouteHints.NONE, rnd) == 0 ? 1 : 0;
    }
    assertThat(busiest).isZero(); // it can only win a draw against itself, which p2c never makes
  }

  @Test
  void scrapedLoadAndKvCacheCountInTheScore() {
    ReplicaView queued = new ReplicaView(1, 0, new LoadReport(4, 3, 0.5, 0), 1);
    ReplicaView fullCache = new ReplicaView(2, 0, new LoadReport(1, 0, 0.99, 0), 1);
    ReplicaView quiet = new ReplicaView(3, 2, new LoadReport(1, 0, 0.2, 0), 1);
    assertThat(queued.score()).isEqualTo(10);     // max(0, 4) running + 2 * 3 waiting
    assertThat(fullCache.score()).isCloseTo(10, org.assertj.core.data.Offset.offset(0.01));
    assertThat(quiet.score()).isEqualTo(2);       // our own 2 in flight exceed vLLM's running 1
    assertThat(new ReplicaView(4, 6, null, 3).score()).isEqualTo(2); // weight divides
  }

  @Test
  void aRequestStillWaitingForItsFirstByteWeighsMoreThanADecodingOne() {
    ReplicaView decoding = new ReplicaView(1, 3, null, 1, 3, 0);
    ReplicaView prefilling = new ReplicaView(2, 2, null, 1, 2, 2);
    assertThat(decoding.placementScore()).isEqualTo(3);
    assertThat(prefilling.score()).isEqualTo(2);
    assertThat(prefilling.placementScore()).as("2 in flight, both computing their prompts").isEqualTo(4);
    assertThat(ReplicaRouter.leastLoaded(List.of(prefilling, decoding), n -> 0))
        .as("the replica busy with decoding delays a new first token less").isEqualTo(1);
  }

  @Test
  void aStaleReportIsCarriedForwardWithThisGatewaysChangesSinceTheScrape() {
    LoadReport report = new LoadReport(8, 4, 0.5, 0); // all 12 ours at the scrape
    assertThat(new ReplicaView(1, 12, report, 1, 12).score()).isEqualTo(16); // 12 + 4 waiting counted twice
    assertThat(new ReplicaView(1, 6, report, 1, 12).score()).as("6 ended: the queue ran").isEqualTo(6);
    assertThat(new ReplicaView(1, 14, report, 1, 12).score()).as("2 more joined the queue").isEqualTo(20);
    LoadReport others = new LoadReport(10, 0, 0.5, 0); // 4 of ours, 6 from another gateway
    assertThat(new ReplicaView(2, 1, others, 1, 4).score()).isEqualTo(7);
  }

  @Test
  void leastInFlightRoundRobinAndWeighted() {
    List<ReplicaView> views = List.of(new ReplicaView(1, 3, null, 1), new ReplicaView(2, 1, null, 1),
        new ReplicaView(3, 2, null, 1));
    assertThat(RoutingStrategy.LEAST_IN_FLIGHT.pick(views, RouteHints.NONE, rnd)).isEqualTo(1);

    RoutingStrategy rr = RoutingStrategy.named("round-robin");
    assertThat(List.of(rr.pick(views, RouteHints.NONE, rnd), rr.pick(views, RouteHints.NONE, rnd),
        rr.pick(views, RouteHints.NONE, rnd), rr.pick(views, RouteHints.NONE, rnd))).containsExactly(0, 1, 2, 0);

    List<ReplicaView> weighted = List.of(new ReplicaView(1, 0, null, 1), new ReplicaView(2, 0, null, 3));
    Map<Integer, Integer> counts = new HashMap<>();
    for (int i = 0; i < 4000; i++) {
      counts.merge(RoutingStrategy.WEIGHTED.pick(weighted, RouteHints.NONE, rnd), 1, Integer::sum);
    }
    assertThat(counts.get(1) / (double) counts.get(0)).isBetween(2.5, 3.5);
  }

  @Test
  void affinityKeepsAKeyOnOneReplicaAndSpreadsKeys() {
    List<ReplicaView> views = List.of(idle(1), idle(2), idle(3));
    long key = PrefixAffinity.hash("model\u0000user:Tell me about Paris");
    int first = PrefixAffinity.preferred(views, key);
    for (int i = 0; i < 10; i++) {
      assertThat(PrefixAffinity.preferred(views, key)).isEqualTo(first);
    }
    Map<Integer, Integer> spread = new HashMap<>();
    for (int i = 0; i < 3000; i++) {
      spread.merge(PrefixAffinity.preferred(views, PrefixAffinity.hash("prompt " + i)), 1, Integer::sum);
    }
    assertThat(spread.values()).allSatisfy(n -> assertThat(n).isBetween(800, 1200));
  }

  @Test
  void affinityGivesWayWhenThePreferredReplicaIsOverloaded() {
    long key = PrefixAffinity.hash("some prompt");
    List<ReplicaView> idle = List.of(idle(1), idle(2), idle(3));
    int preferred = PrefixAffinity.preferred(idle, key);
    ReplicaView[] loaded = idle.toArray(new ReplicaView[0]);
    loaded[preferred] = new ReplicaView(loaded[preferred].id(), 12, null, 1);
    assertThat(PrefixAffinity.preferred(List.of(loaded), key)).isEqualTo(-1);
    loaded[preferred] = new ReplicaView(loaded[preferred].id(), 2, null, 1);
    assertThat(PrefixAffinity.preferred(List.of(loaded), key)).as("a little busier is fine").isEqualTo(preferred);
  }

  @Test
  void removingAReplicaMovesOnlyItsOwnKeys() {
    List<ReplicaView> three = List.of(idle(1), idle(2), idle(3));
    List<ReplicaView> two = List.of(idle(1), idle(3));
    for (int i = 0; i < 500; i++) {
      long key = PrefixAffinity.hash("k" + i);
      long before = three.get(PrefixAffinity.preferred(three, key)).id();
      long after = two.get(PrefixAffinity.preferred(two, key)).id();
      if (before != 2) {
        assertThat(after).isEqualTo(before);
      }
    }
  }
}
