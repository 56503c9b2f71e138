package io.inferencegateway.simulator;

import java.util.HashMap;

/**
 * The KV cache of the faithful engine: a fixed number of 16-token blocks with vLLM's prefix caching.
 *
 * <p>A full block is known by its hash, which chains the previous block's hash with the block's token
 * ids, so finding a block means its whole prefix matches. Blocks no sequence holds stay cached in an LRU
 * queue of free blocks and are evicted from its head when a block is needed; never-used blocks are taken
 * before any of them. A hit takes a block out of the queue. Confined to one thread.
 */
final class BlockPool {

  static final int BLOCK_SIZE = 16;

  /** One KV block. {@code hash} is 0 until the block is full and registered in the cache. */
  static final class Block {
    long hash;
    int refs;
    private Block prev;
    private Block next;
    private boolean queued;
  }

  private final HashMap<Long, Block> cached = new HashMap<>();
  // The free queue: head is evicted first.
  private Block head;
  private Block tail;
  private int queued;
  private int capacity;
  /** Blocks never handed out yet; negative while a shrunk capacity is still held by sequences. */
  private int untouched;
  private int held;

  BlockPool(int capacityBlocks) {
    this.capacity = capacityBlocks;
    this.untouched = capacityBlocks;
  }

  int capacity() {
    return capacity;
  }

  /** Blocks that can be handed out: never used, or free and possibly holding a cached prefix. */
  int free() {
    return Math.max(0, untouched + queued);
  }

  /** Blocks held by sequences. */
  int held() {
    return held;
  }

  /** Share of the blocks held by sequences, vLLM's {@code kv_cache_usage_perc}: cached free blocks count as free. */
  double usage() {
    return capacity == 0 ? 0 : Math.min(1.0, (double) held / capacity);
  }

  /** The cached block with this hash (held or free), or null. */
  Block lookup(long hash) {
    return cached.get(hash);
  }

  /** Takes a cached block for a sequence; a free one leaves the free queue. */
  void touch(Block b) {
    if (b.refs++ == 0) {
      unlink(b);
      held++;
    }
  }

  /** A fresh block: never used if any, else the least recently freed one (dropping its cached prefix). */
  Block allocate() {
    Block b;
    if (untouched > 0) {
      untouched--;
      b = new Block();
    } else {
      b = head;
      if (b == null) {
        throw new IllegalStateException("no free KV block");
      }
      unlink(b);
      if (b.hash != 0 && cached.get(b.hash) == b) {
        cached.remove(b.hash);
      }
      b.hash = 0;
    }
    b.refs = 1;
    held++;
    return b;
  }

  /** Allocates beyond the capacity: only for a sequence that runs alone and would otherwise never finish. */
  Block allocateOverCapacity() {
    untouched--;
    Block b = new Block();
    b.refs = 1;
    held++;
    return b;
  }

  /** A full block's hash is known: cache it, unless an equal block is cached already. */
  void register(Block b, long hash) {
    if (b.hash == 0 && !cached.containsKey(hash)) {
      b.hash = hash;
      cached.put(hash, b);
    }
  }

  /** A sequence lets go of a block; once nobody holds it, it joins the tail of the free queue. */
  void release(Block b) {
    if (--b.refs > 0) {
      return;
    }
    held--;
    if (b.hash == 0 && untouched < 0) {
      // A shrunk pool: an uncached block just goes away.
      untouched++;
      return;
    }
    b.prev = tail;
    b.next = null;
    if (tail != null) {
      tail.next = b;
    } else {
      head = b;
    }
    tail = b;
    b.queued = true;
    queued++;
    while (untouched < 0 && head != null) {
      // Give back what a smaller capacity no longer has room for.
      Block drop = head;
      unlink(drop);
      if (drop.hash != 0 && cached.get(drop.hash) == drop) {
        cached.remove(drop.hash);
      }
      untouched++;
    }
  }

  /** Changes the capacity; a smaller one drops free blocks from the head, and what sequences hold later. */
  void resize(int capacityBlocks) {
    untouched += capacityBlocks - capacity;
    capacity = capacityBlocks;
    while (untouched < 0 && head != null) {
      Block drop = head;
      unlink(drop);
      if (drop.hash != 0 && cached.get(drop.hash) == drop) {
        cached.remove(drop.hash);
      }
      untouched++;
    }
  }

  private void unlink(Block b) {
    if (!b.queued) {
      return;
    }
    if (b.prev != null) {
      b.prev.next = b.next;
    } else {
      head = b.next;
    }
    if (b.next != null) {
      b.next.prev = b.prev;
    } else {
      tail = b.prev;
    }
    b.prev = null;
    b.next = null;
    b.queued = false;
    queued--;
  }
}
