package io.inferencegateway.routing;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which replica each affinity key (a conversation, a session, a shared prompt start) was last sent to, so its next
 * request meets the prefix cache that replica filled. Bounded: the least recently used keys are forgotten first.
 * Shared by the ingress event loops of one gateway (a short lock per request).
 */
final class AffinityTable {

  private final Map<Long, Long> replicaByKey;

  AffinityTable(int capacity) {
    this.replicaByKey = new LinkedHashMap<>(1024, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Long, Long> eldest) {
        return size() > capacity;
      }
    };
  }

  /** The replica this key went to last, or null if it is new (or forgotten). */
  synchronized Long get(long key) {
    return replicaByKey.get(key);
  }

  synchronized void put(long key, long replicaId) {
    replicaByKey.put(key, replicaId);
  }

  synchronized int size() {
    return replicaByKey.size();
  }
}
