package io.inferencegateway.routing;

import java.util.List;

/**
 * Sends requests that share an affinity key (the start of the prompt, or a session) to the same replica, so vLLM's
 * prefix cache hits, unless that replica is clearly busier than the rest: then the underlying strategy decides.
 * The preferred replica is found by rendezvous hashing ({@link Rendezvous}) over the replica ids, which every
 * gateway instance shares: a cluster's members send one conversation to the same replica without sharing any state,
 * and adding or removing a replica moves few keys.
 */
public final class PrefixAffinity {

  /** The preferred replica may carry this much more than the average score, plus a small absolute slack. */
  static final double LOAD_FACTOR = 1.25;
  static final double SLACK = 2;

  private PrefixAffinity() {}

  /** The index of the replica the key prefers, or -1 if it is overloaded. */
  public static int preferred(List<ReplicaView> candidates, long affinityHash) {
    int best = -1;
    long bestWeight = Long.MIN_VALUE;
    double total = 0;
    for (int i = 0; i < candidates.size(); i++) {
      ReplicaView v = candidates.get(i);
      total += v.score();
      long w = Rendezvous.weight(affinityHash, v.id());
      if (best < 0 || w > bestWeight) {
        best = i;
        bestWeight = w;
      }
    }
    double average = total / candidates.size();
    return candidates.get(best).score() <= LOAD_FACTOR * average + SLACK ? best : -1;
  }

  static long mix(long z) {
    return Rendezvous.mix(z);
  }

  /** FNV-1a over the characters, then mixed: the affinity key of a text. */
  public static long hash(CharSequence text) {
    long h = 0xcbf29ce484222325L;
    for (int i = 0; i < text.length(); i++) {
      h ^= text.charAt(i);
      h *= 0x100000001b3L;
    }
    return mix(h);
  }
}
