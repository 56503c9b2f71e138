package io.inferencegateway.routing;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Rendezvous hashing: a key's choice depends on the member set only, and losing a member moves only its keys. */
class RendezvousTest {

  @Test
  void theChoiceDoesNotDependOnOrderAndSpreadsKeys() {
    List<Long> members = List.of(3L, 7L, 11L, 12L);
    List<Long> reversed = new ArrayList<>(members);
    java.util.Collections.reverse(reversed);
    Map<Long, Integer> counts = new HashMap<>();
    for (long key = 0; key < 4000; key++) {
      long h = PrefixAffinity.hash("conversation " + key);
      long chosen = Rendezvous.choose(h, members);
      assertThat(Rendezvous.choose(h, reversed)).isEqualTo(chosen);
      counts.merge(chosen, 1, Integer::sum);
    }
    assertThat(counts).hasSize(4);
    assertThat(counts.values()).allSatisfy(n -> assertThat(n).isBetween(800, 1200));
  }

  @Test
  void removingAMemberMovesOnlyItsKeys() {
    List<Long> all = List.of(1L, 2L, 3L);
    List<Long> without2 = List.of(1L, 3L);
    for (long key = 0; key < 2000; key++) {
      long h = PrefixAffinity.hash("k" + key);
      long before = Rendezvous.choose(h, all);
      if (before != 2L) {
        assertThat(Rendezvous.choose(h, without2)).isEqualTo(before);
      }
    }
  }

  @Test
  void prefixAffinityPrefersTheRendezvousChoiceWhenLoadIsEven() {
    List<ReplicaView> views = new ArrayList<>();
    for (long id : List.of(5L, 6L, 9L)) {
      views.add(new ReplicaView(id, 0, null, 1));
    }
    for (long key = 0; key < 200; key++) {
      long h = PrefixAffinity.hash("c" + key);
      int idx = PrefixAffinity.preferred(views, h);
      assertThat(views.get(idx).id()).isEqualTo(Rendezvous.choose(h, List.of(5L, 6L, 9L)));
    }
  }
}
