package io.inferencegateway.simulator;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntUnaryOperator;
import java.util.function.Supplier;

/**
 * The faithful engine of one model: vLLM's continuous batching over a {@link BlockPool} with prefix caching,
 * one step at a time, each step taking the time {@link StepCost} gives it.
 *
 * <p>A step, as in vLLM v1's scheduler: running sequences first (one token each when decoding, the rest of
 * their prompt when prefilling), each within the step's token budget ({@code maxNumBatchedTokens}, so long
 * prompts are prefilled in chunks); a running sequence that needs a KV block when none is free preempts the
 * last running one (its blocks are freed, it waits at the front of the queue and is recomputed later). Then,
 * if nothing was preempted, waiting sequences are admitted in order while fewer than {@code maxNumSeqs} run,
 * budget is left and their blocks fit; the first one that does not fit stops admission. A sequence admitted
 * reuses the cached blocks of its longest cached prefix (at most all tokens but the last) and computes only
 * the rest. When the step's time has passed, every sequence whose tokens are all computed gets its next token.
 *
 * <p>Confined to one thread (the verticle's event loop, or a test's); the {@link StepClock} decides when steps
 * end. Gauges and counters go to the model's {@link Engine.ModelCounters}.
 */
final class BatchEngine {

  /** What a sequence's owner hears; called on the engine's thread. */
  interface Listener {
    /** The next output token exists (in order; the first one ends the time to first token). */
    void token();

    /** No more tokens: the answer is complete. */
    void done();
  }

  private enum State { WAITING, RUNNING, FINISHED }

  /** One request in the engine. */
  final class Sequence {
    final int[] promptIds;
    final int width;
    final int target;
    final IntUnaryOperator outputIds;
    final long salt;
    final Listener listener;
    final long arrival;

    private State state = State.WAITING;
    private int generated;
    private int computed;
    private final ArrayList<BlockPool.Block> blocks = new ArrayList<>();
    private long[] hashes = new long[8];
    private int hashCount;
    /** Blocks whose hash is known to the pool (or deliberately kept private). */
    private int cachedBlocks;
    private boolean admittedOnce;
    private int cachedTokens;
    private long firstTokenAt = -1;

    private Sequence(int[] promptIds, int width, int target, IntUnaryOperator outputIds, long salt,
        Listener listener, long arrival) {
      this.promptIds = promptIds;
      this.width = width;
      this.target = target;
      this.outputIds = outputIds;
      this.salt = salt;
      this.listener = listener;
      this.arrival = arrival;
    }

    /** Tokens of the sequence so far: the prompt and the output generated. */
    int tokens() {
      return promptIds.length + generated;
    }

    /** Prompt tokens found in the prefix cache when the sequence was first admitted. */
    int cachedTokens() {
      return cachedTokens;
    }

    int generated() {
      return generated;
    }

    /** Modelled time from arrival to the first token, or -1 before it. */
    long timeToFirstTokenNanos() {
      return firstTokenAt < 0 ? -1 : firstTokenAt - arrival;
    }

    boolean isWaiting() {
      return state == State.WAITING;
    }

    boolean isRunning() {
      return state == State.RUNNING;
    }

    private int tokenAt(int i) {
      return i < promptIds.length ? promptIds[i] : outputIds.applyAsInt(i - promptIds.length);
    }

    /** The hash of full block {@code b}, chained over the blocks before it. */
    private long hash(int b) {
      while (hashCount <= b) {
        if (hashCount == hashes.length) {
          hashes = Arrays.copyOf(hashes, hashes.length * 2);
        }
        long h = hashCount == 0 ? salt : hashes[hashCount - 1];
        int from = hashCount * BlockPool.BLOCK_SIZE;
        for (int i = from; i < from + BlockPool.BLOCK_SIZE; i++) {
          h = (h ^ (tokenAt(i) & 0xffffffffL)) * 0x100000001b3L;
        }
        h ^= h >>> 31;
        hashes[hashCount++] = h == 0 ? 1 : h;
      }
      return hashes[b];
    }

    /** KV blocks needed once {@code computedTokens} are computed; the extra choices of n > 1 hold their own output. */
    private int blocksFor(int computedTokens) {
      long output = Math.max(0, computedTokens - promptIds.length);
      long slots = computedTokens + (width - 1L) * output;
      return (int) ((slots + BlockPool.BLOCK_SIZE - 1) / BlockPool.BLOCK_SIZE);
    }

    /** Full blocks whose hash may be shared: all of them for one choice, the prompt's for several. */
    private int shareableBlocks(int computedTokens) {
      int upTo = width == 1 ? computedTokens : Math.min(computedTokens, promptIds.length);
      return upTo / BlockPool.BLOCK_SIZE;
    }
  }

  /** A sequence's share of one step. */
  private record Work(Sequence seq, int tokens, boolean prefill) {
  }

  /** Counters that tests and {@code /sim/stats} read. */
  record Snapshot(int running, int waiting, double kvUsage, int heldBlocks, int freeBlocks, int capacityBlocks,
      long steps, long prefixQueries, long prefixHits, long preemptions, double busySeconds) {
  }

  private final Supplier<SimulatorSettings> settings;
  private final StepClock clock;
  private final Engine engine;
  private final Engine.ModelCounters counters;
  private final BlockPool pool;
  private final ArrayDeque<Sequence> waiting = new ArrayDeque<>();
  private final ArrayList<Sequence> running = new ArrayList<>();
  private int runningWidth;
  private boolean stepping;
  private long steps;
  private long busyNanos;

  BatchEngine(Supplier<SimulatorSettings> settings, StepClock clock, Engine engine, Engine.ModelCounters counters) {
    this.settings = settings;
    this.clock = clock;
    this.engine = engine;
    this.counters = counters;
    this.pool = new BlockPool(capacityBlocks(settings.get()));
  }

  private static int capacityBlocks(SimulatorSettings s) {
    return s.kvCacheTokens() / BlockPool.BLOCK_SIZE;
  }

  /**
   * Queues a request; the next step may admit it.
   *
   * @param promptIds the prompt's token ids
   * @param width     sequences it decodes at once (n times the number of prompts)
   * @param target    output tokens to generate (0: done after its prefill)
   * @param outputIds the token id of output token {@code j}, for caching the blocks the output fills
   * @param salt      vLLM's {@code cache_salt}, or null
   */
  Sequence submit(int[] promptIds, int width, int target, IntUnaryOperator outputIds, String salt,
      Listener listener) {
    long now = clock.nanoTime();
    long saltHash = salt == null ? 0x9e3779b97f4a7c15L : 0x9e3779b97f4a7c15L ^ (salt.hashCode() * 0xff51afd7ed558ccdL);
    Sequence seq = new Sequence(promptIds, Math.max(1, width), target, outputIds, saltHash, listener, now);
    waiting.addLast(seq);
    engine.adjust(counters, 0, 1);
    if (!stepping) {
      // An idle engine starts a step for the newcomer at once.
      startStep(now);
    }
    return seq;
  }

  /** The client went away: the sequence leaves the queue or the batch and frees its blocks. */
  void abort(Sequence seq) {
    if (seq.state == State.WAITING) {
      waiting.remove(seq);
      engine.adjust(counters, 0, -1);
    } else if (seq.state == State.RUNNING) {
      removeRunning(seq);
      freeBlocks(seq);
    }
    seq.state = State.FINISHED;
  }

  /** Settings changed: the pool follows the KV capacity, and an idle engine looks at its queue again. */
  void settingsChanged() {
    int blocks = capacityBlocks(settings.get());
    if (blocks != pool.capacity()) {
      pool.resize(blocks);
    }
    if (!stepping && !waiting.isEmpty()) {
      startStep(clock.nanoTime());
    }
  }

  double kvUsage() {
    return pool.usage();
  }

  Snapshot snapshot() {
    return new Snapshot(running.size(), waiting.size(), pool.usage(), pool.held(), pool.free(), pool.capacity(),
        steps, counters.prefixQueries.get(), counters.prefixHits.get(), counters.preemptions.get(),
        busyNanos / 1e9);
  }

  private void startStep(long start) {
    SimulatorSettings s = settings.get();
    List<Work> work = schedule(s);
    if (work.isEmpty()) {
      stepping = false;
      return;
    }
    int seqs = 0;
    long prefill = 0;
    for (Work w : work) {
      seqs += w.seq.width;
      if (w.prefill) {
        prefill += w.tokens;
      }
    }
    long duration = StepCost.of(s).nanos(seqs, prefill);
    long end = start + duration;
    stepping = true;
    steps++;
    busyNanos += duration;
    clock.after(end - clock.nanoTime(), () -> finishStep(work, end));
  }

  private List<Work> schedule(SimulatorSettings s) {
    int budget = s.maxNumBatchedTokens();
    List<Work> work = new ArrayList<>(running.size() + 4);
    boolean preempted = false;
    for (int i = 0; i < running.size() && budget > 0; i++) {
      Sequence seq = running.get(i);
      int remaining = seq.tokens() - seq.computed;
      boolean prefill = remaining > 1 || seq.generated == 0;
      int n = prefill ? Math.min(remaining, budget) : 1;
      boolean fits = true;
      while (!grow(seq, seq.computed + n)) {
        Sequence victim = running.get(running.size() - 1);
        preempt(victim);
        preempted = true;
        if (victim == seq) {
          fits = false;
          break;
        }
      }
      if (!fits) {
        break;
      }
      work.add(new Work(seq, n, prefill));
      budget -= prefill ? n : seq.width;
    }
    while (!preempted && budget > 0 && !waiting.isEmpty()) {
      Sequence seq = waiting.peekFirst();
      if (!running.isEmpty() && runningWidth + seq.width > s.maxNumSeqs()) {
        break;
      }
      int n = admit(seq, budget);
      if (n == 0) {
        break; // its blocks do not fit: nobody behind it jumps the queue
      }
      work.add(new Work(seq, n, true));
      budget -= n;
    }
    for (Work w : work) {
      cacheFullBlocks(w.seq, w.seq.computed + w.tokens);
    }
    return work;
  }

  /** Admits the first waiting sequence if its blocks fit; returns the tokens it computes in this step, or 0. */
  private int admit(Sequence seq, int budget) {
    int tokens = seq.tokens();
    // A hit covers at most all tokens but the last, whose logits must be computed.
    int maxHitBlocks = (tokens - 1) / BlockPool.BLOCK_SIZE;
    List<BlockPool.Block> hits = new ArrayList<>();
    int freeHits = 0;
    for (int b = 0; b < maxHitBlocks; b++) {
      BlockPool.Block block = pool.lookup(seq.hash(b));
      if (block == null) {
        break;
      }
      hits.add(block);
      if (block.refs == 0) {
        freeHits++;
      }
    }
    int hitTokens = hits.size() * BlockPool.BLOCK_SIZE;
    int n = Math.min(tokens - hitTokens, budget);
    int fresh = seq.blocksFor(hitTokens + n) - hits.size();
    boolean alone = running.isEmpty();
    if (freeHits + fresh > pool.free() && !alone) {
      return 0;
    }
    waiting.pollFirst();
    for (BlockPool.Block block : hits) {
      pool.touch(block);
      seq.blocks.add(block);
    }
    seq.cachedBlocks = hits.size();
    for (int i = 0; i < fresh; i++) {
      seq.blocks.add(pool.free() > 0 ? pool.allocate() : pool.allocateOverCapacity());
    }
    seq.computed = hitTokens;
    seq.state = State.RUNNING;
    running.add(seq);
    runningWidth += seq.width;
    engine.adjust(counters, 1, -1);
    if (!seq.admittedOnce) {
      // vLLM counts a request's prefix-cache query once, in tokens.
      seq.admittedOnce = true;
      seq.cachedTokens = hitTokens;
      counters.prefixQueries.addAndGet(tokens);
      counters.prefixHits.addAndGet(hitTokens);
    }
    return n;
  }

  /** Gives a running sequence the blocks for {@code computedTokens}; false when the pool has too few. */
  private boolean grow(Sequence seq, int computedTokens) {
    int more = seq.blocksFor(computedTokens) - seq.blocks.size();
    if (more <= 0) {
      return true;
    }
    if (more > pool.free()) {
      if (running.size() > 1) {
        return false;
      }
      // Alone and still too big (n > 1 outgrowing the cache): let it finish rather than loop forever.
      for (int i = 0; i < more; i++) {
        seq.blocks.add(pool.free() > 0 ? pool.allocate() : pool.allocateOverCapacity());
      }
      return true;
    }
    for (int i = 0; i < more; i++) {
      seq.blocks.add(pool.allocate());
    }
    return true;
  }

  /** Blocks full once this step is done are cached now, as vLLM does when it allocates their slots. */
  private void cacheFullBlocks(Sequence seq, int computedTokens) {
    int full = seq.shareableBlocks(computedTokens);
    for (int b = seq.cachedBlocks; b < full; b++) {
      pool.register(seq.blocks.get(b), seq.hash(b));
    }
    seq.cachedBlocks = Math.max(seq.cachedBlocks, full);
  }

  private void preempt(Sequence seq) {
    removeRunning(seq);
    freeBlocks(seq);
    seq.computed = 0;
    seq.cachedBlocks = 0;
    seq.state = State.WAITING;
    waiting.addFirst(seq);
    engine.adjust(counters, 0, 1);
    counters.preemptions.incrementAndGet();
  }

  private void removeRunning(Sequence seq) {
    running.remove(seq);
    runningWidth -= seq.width;
    engine.adjust(counters, -1, 0);
  }

  private void freeBlocks(Sequence seq) {
    // Last block first: it goes to the free queue first and is evicted before the prefix it extends.
    for (int i = seq.blocks.size() - 1; i >= 0; i--) {
      pool.release(seq.blocks.get(i));
    }
    seq.blocks.clear();
  }

  private void finishStep(List<Work> work, long end) {
    for (Work w : work) {
      Sequence seq = w.seq;
      if (seq.state != State.RUNNING) {
        continue; // aborted while the step ran
      }
      seq.computed += w.tokens;
      if (seq.computed < seq.tokens()) {
        continue; // a chunk of a long prompt
      }
      if (seq.generated < seq.target) {
        seq.generated++;
        if (seq.firstTokenAt < 0) {
          seq.firstTokenAt = end;
          counters.ttft.observe((end - seq.arrival) / 1e9);
        }
        seq.listener.token();
      }
      if (seq.state == State.RUNNING && seq.generated >= seq.target) {
        if (seq.firstTokenAt < 0) {
          seq.firstTokenAt = end;
          counters.ttft.observe((end - seq.arrival) / 1e9);
        }
        removeRunning(seq);
        freeBlocks(seq);
        seq.state = State.FINISHED;
        counters.e2e.observe((end - seq.arrival) / 1e9);
        seq.listener.done();
      }
    }
    // Keep the model's cadence when the timer was a little late; after a stall, start from now.
    long now = clock.nanoTime();
    startStep(now - end <= 2_000_000 ? end : now);
  }
}
