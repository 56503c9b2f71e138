package io.inferencegateway.routing;

import java.util.Collection;

/**
 * Rendezvous (highest random weight) hashing: a key goes to the member with the highest {@link #weight} of (key,
 * member). The choice depends only on the key and the member set, so independent gateway instances agree on it with
 * nothing shared, and removing a member moves only the keys that were on it.
 */
public final class Rendezvous {

  private Rendezvous() {}

  /** The weight of a member (a replica id) for a key. */
  public static long weight(long key, long member) {
    return mix(key ^ mix(member));
  }

  /** The member with the highest weight for the key (ties: the smaller id); -1 if there are none. */
  public static long choose(long key, Collection<Long> members) {
    long best = -1;
    long bestWeight = Long.MIN_VALUE;
    for (long m : members) {
      long w = weight(key, m);
      if (best < 0 || w > bestWeight || (w == bestWeight && m < best)) {
        best = m;
        bestWeight = w;
      }
    }
    return best;
  }

  /** The index of the replica with the highest weight for the key (ties: the smaller id); -1 if there are none. */
  public static int preferredIndex(java.util.List<ReplicaView> views, long key) {
    int best = -1;
    long bestWeight = Long.MIN_VALUE;
    for (int i = 0; i < views.size(); i++) {
      long id = views.get(i).id();
      long w = weight(key, id);
      if (best < 0 || w > bestWeight || (w == bestWeight && id < views.get(best).id())) {
        best = i;
        bestWeight = w;
      }
    }
    return best;
  }

  /** A 64-bit finaliser (SplitMix64): spreads close keys far apart. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
