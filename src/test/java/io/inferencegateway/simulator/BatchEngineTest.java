package io.inferencegateway.simulator;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The faithful engine driven step by step by a hand-moved clock: no sleeps, no wall clock. */
class BatchEngineTest {

  private static final long MS = 1_000_000L;

  private final ManualStepClock clock = new ManualStepClock();
  private final AtomicReference<SimulatorSettings> settings = new AtomicReference<>();
  private final Engine engine = new Engine(() -> settings.get().maxNumSeqs());
  private final Engine.ModelCounters counters = engine.model("m");
  private BatchEngine batch;

  private BatchEngine engine(JsonObject patch) {
    settings.set(SimulatorSettings.defaults(List.of("m"))
        .merge(new JsonObject().put("engine", "faithful").mergeIn(patch)));
    batch = new BatchEngine(settings::get, clock, engine, counters);
    return batch;
  }

  /** Records when each token and the end arrive, in the engine's time. */
  private final class Recorder implements BatchEngine.Listener {
    final List<Long> tokens = new ArrayList<>();
    long doneAt = -1;

    @Override
    public void token() {
      tokens.add(clock.nanoTime());
    }

    @Override
    public void done() {
      doneAt = clock.nanoTime();
    }

    long gap(int i) {
      return tokens.get(i) - tokens.get(i - 1);
    }
  }

  private static int[] ids(int from, int count) {
    int[] ids = new int[count];
    for (int i = 0; i < count; i++) {
      ids[i] = from + i;
    }
    return ids;
  }

  private static int[] concat(int[]... parts) {
    int n = 0;
    for (int[] p : parts) {
      n += p.length;
    }
    int[] out = new int[n];
    int at = 0;
    for (int[] p : parts) {
      System.arraycopy(p, 0, out, at, p.length);
      at += p.length;
    }
    return out;
  }

  /** Output token j of a sequence: distinct per base so different answers fill different blocks. */
  private static int output(int base, int j) {
    return 50_000_000 + base * 10_000 + j;
  }

  private BatchEngine.Sequence submit(int[] prompt, int target, Recorder r) {
    return batch.submit(prompt, 1, target, j -> output(prompt[prompt.length - 1], j), null, r);
  }

  private static long cost(int seqs, long prefill) {
    return StepCost.of(SimulatorSettings.defaults(List.of("m"))).nanos(seqs, prefill);
  }

  @Test
  void defaultCostModelFollowsTheMeasuredShape() {
    StepCost c = StepCost.of(SimulatorSettings.defaults(List.of("m")));
    assertThat(c.ms(1, 0)).isEqualTo(6.5);
    assertThat(c.ms(4, 0)).isEqualTo(6.5);
    assertThat(c.ms(8, 0)).isEqualTo(6.5);
    assertThat(c.ms(16, 0)).isCloseTo(12.0, within(1e-9));
    assertThat(c.ms(64, 0)).isCloseTo(48.0, within(1e-9));
    // Throughput (sequences per ms) never falls as the batch grows.
    for (int seqs = 1; seqs < 512; seqs++) {
      assertThat((seqs + 1) / c.ms(seqs + 1, 0)).isGreaterThanOrEqualTo(seqs / c.ms(seqs, 0) - 1e-12);
    }
    assertThat(c.ms(1, 100)).isCloseTo(14.0, within(1e-9));
  }

  @Test
  void stepTimeGrowsWithTheBatchAndWithPrefillInTheStep() {
    engine(new JsonObject());
    // Alone: prefill 32 tokens, then flat 6.5 ms decode steps.
    Recorder alone = new Recorder();
    long t0 = clock.nanoTime();
    submit(ids(0, 32), 4, alone);
    clock.runAll();
    assertThat(alone.tokens).hasSize(4);
    assertThat(alone.tokens.get(0) - t0).isEqualTo(cost(1, 32)).isEqualTo(8_900_000L);
    assertThat(alone.gap(1)).isEqualTo(6_500_000L);
    assertThat(alone.gap(3)).isEqualTo(6_500_000L);
    assertThat(alone.doneAt).isEqualTo(alone.tokens.get(3));

    // Thirty at once: the first starts a step alone, the other 29 are prefilled together in the next.
    List<Recorder> many = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      Recorder r = new Recorder();
      many.add(r);
      submit(ids(1000 + 100 * i, 16), 3, r);
    }
    clock.runAll();
    Recorder first = many.get(0);
    assertThat(first.gap(1)).as("30 sequences, 29 x 16 prompt tokens").isEqualTo(cost(30, 29 * 16))
        .isEqualTo(57_300_000L);
    assertThat(first.gap(2)).as("30 sequences decoding").isEqualTo(cost(30, 0)).isEqualTo(22_500_000L);
    assertThat(many).allSatisfy(r -> assertThat(r.tokens).hasSize(3));

    // A long prompt joining a decoding sequence slows that sequence's next token.
    Recorder decoding = new Recorder();
    submit(ids(9000, 16), 6, decoding);
    clock.runNext(); // its prefill step ends with the first token; a decode step starts at once
    Recorder longPrompt = new Recorder();
    submit(ids(20_000, 1000), 1, longPrompt); // waits for the next step
    clock.runAll();
    assertThat(decoding.gap(1)).isEqualTo(cost(1, 0));
    assertThat(decoding.gap(2)).isEqualTo(cost(2, 1000)).isEqualTo(81_500_000L);
    assertThat(decoding.gap(3)).isEqualTo(cost(1, 0));
    assertThat(longPrompt.tokens).hasSize(1);
  }

  @Test
  void longPromptsArePrefilledInChunksOfTheStepBudget() {
    engine(new JsonObject().put("maxNumBatchedTokens", 64));
    Recorder r = new Recorder();
    long t0 = clock.nanoTime();
    submit(ids(0, 200), 1, r);
    assertThat(clock.runAll()).isEqualTo(4); // 64 + 64 + 64 + 8
    assertThat(r.tokens.get(0) - t0).isEqualTo(3 * cost(1, 64) + cost(1, 8)).isEqualTo(41_000_000L);
    assertThat(counters.ttft.sum()).isCloseTo(0.041, within(1e-9));
  }

  @Test
  void sharedPrefixesHitTheCacheAndComputeOnlyTheRest() {
    engine(new JsonObject());
    int[] system = ids(0, 80);
    Recorder a = new Recorder();
    long t0 = clock.nanoTime();
    BatchEngine.Sequence first = submit(concat(system, ids(1000, 20)), 2, a);
    clock.runAll();
    assertThat(first.cachedTokens()).isZero();
    assertThat(a.tokens.get(0) - t0).isEqualTo(cost(1, 100)).isEqualTo(14_000_000L);

    clock.advance(50 * MS);
    Recorder b = new Recorder();
    long t1 = clock.nanoTime();
    BatchEngine.Sequence second = submit(concat(system, ids(2000, 20)), 2, b);
    clock.runAll();
    // The 80 shared tokens are 5 full blocks; only the 20 others are computed.
    assertThat(second.cachedTokens()).isEqualTo(80);
    assertThat(b.tokens.get(0) - t1).isEqualTo(cost(1, 20)).isEqualTo(8_000_000L);
    assertThat(second.timeToFirstTokenNanos()).isEqualTo(8_000_000L);

    // The same prompt again: every block but the one holding the last token, which is always computed.
    clock.advance(50 * MS);
    BatchEngine.Sequence again = submit(concat(system, ids(1000, 20)), 2, new Recorder());
    clock.runAll();
    assertThat(again.cachedTokens()).isEqualTo(96);
    assertThat(again.timeToFirstTokenNanos()).isEqualTo(cost(1, 4));

    assertThat(counters.prefixQueries.get()).isEqualTo(300);
    assertThat(counters.prefixHits.get()).isEqualTo(80 + 96);
    assertThat(counters.ttft.count()).isEqualTo(3);
    assertThat(counters.ttft.sum()).isCloseTo(0.014 + 0.008 + 0.0068, within(1e-9));
    assertThat(batch.kvUsage()).as("nothing runs: cached blocks count as free").isZero();
  }

  @Test
  void aNextTurnHitsTheBlocksThePreviousAnswerFilled() {
    engine(new JsonObject());
    int[] turn1 = ids(0, 40);
    BatchEngine.Sequence one = submit(turn1, 30, new Recorder());
    clock.runAll();
    assertThat(one.generated()).isEqualTo(30);
    // 40 prompt + 29 computed output tokens (the last one is never fed back): 4 full blocks.
    int[] answer = new int[30];
    for (int j = 0; j < 30; j++) {
      answer[j] = output(turn1[turn1.length - 1], j);
    }
    BatchEngine.Sequence two = submit(concat(turn1, answer, ids(7000, 10)), 1, new Recorder());
    clock.runAll();
    assertThat(two.cachedTokens()).isEqualTo(64);
  }

  @Test
  void leastRecentlyUsedFreeBlocksAreEvictedFirst() {
    // Room for 4 blocks; each 32-token prompt fills 2.
    engine(new JsonObject().put("kvCacheTokens", 64).put("maxModelLen", 64));
    int[] a = ids(0, 32);
    int[] b = ids(100, 32);
    int[] c = ids(200, 32);
    run(a);
    run(b);
    // A again: its first block is a hit (and is now the most recently used), its second is recomputed.
    assertThat(run(a).cachedTokens()).isEqualTo(16);
    // C needs two blocks: the least recently used free ones are B's.
    assertThat(run(c).cachedTokens()).isZero();
    assertThat(run(a).cachedTokens()).as("A survived").isEqualTo(16);
    assertThat(run(b).cachedTokens()).as("B was evicted").isZero();
    BatchEngine.Snapshot s = batch.snapshot();
    assertThat(s.capacityBlocks()).isEqualTo(4);
    assertThat(s.heldBlocks()).isZero();
    assertThat(s.freeBlocks()).isEqualTo(4);
  }

  private BatchEngine.Sequence run(int[] prompt) {
    BatchEngine.Sequence seq = submit(prompt, 1, new Recorder());
    clock.runAll();
    assertThat(seq.generated()).isEqualTo(1);
    return seq;
  }

  @Test
  void aRequestWhoseBlocksDoNotFitWaitsUntilBlocksAreFree() {
    engine(new JsonObject().put("kvCacheTokens", 64).put("maxModelLen", 64));
    Recorder a = new Recorder();
    Recorder b = new Recorder();
    BatchEngine.Sequence big = submit(ids(0, 40), 8, a);   // 3 blocks, grows to 47 tokens: still 3
    BatchEngine.Sequence small = submit(ids(100, 30), 2, b); // 2 blocks: only 1 is free
    clock.runNext();
    assertThat(big.isRunning()).isTrue();
    assertThat(small.isWaiting()).isTrue();
    BatchEngine.Snapshot s = batch.snapshot();
    assertThat(s.running()).isEqualTo(1);
    assertThat(s.waiting()).isEqualTo(1);
    assertThat(s.kvUsage()).isEqualTo(0.75);
    assertThat(engine.waiting()).isEqualTo(1);
    assertThat(counters.waiting.get()).isEqualTo(1);
    assertThat(counters.running.get()).isEqualTo(1);

    clock.runAll();
    assertThat(a.tokens).hasSize(8);
    assertThat(b.tokens).hasSize(2);
    assertThat(b.tokens.get(0)).as("admitted once the first finished").isGreaterThan(a.doneAt);
    assertThat(counters.running.get()).isZero();
    assertThat(counters.waiting.get()).isZero();
    assertThat(batch.snapshot().heldBlocks()).isZero();
  }

  @Test
  void maxNumSeqsBoundsTheBatch() {
    engine(new JsonObject().put("maxNumSeqs", 2));
    List<BatchEngine.Sequence> seqs = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      seqs.add(submit(ids(100 * i, 16), 5, new Recorder()));
    }
    clock.runNext(); // the first one's step; the next admits the second only
    assertThat(seqs.get(0).isRunning()).isTrue();
    assertThat(seqs.get(1).isRunning()).isTrue();
    assertThat(seqs.get(2).isWaiting()).isTrue();
    assertThat(engine.running()).isEqualTo(2);
    clock.runAll();
    assertThat(seqs).allSatisfy(q -> assertThat(q.generated()).isEqualTo(5));
  }

  @Test
  void aRunningSequenceWithoutRoomPreemptsTheLastOneAdmitted() {
    engine(new JsonObject().put("kvCacheTokens", 64).put("maxModelLen", 64));
    Recorder a = new Recorder();
    Recorder b = new Recorder();
    submit(ids(0, 17), 30, a);   // 2 blocks, grows to 46 tokens: 3
    BatchEngine.Sequence later = submit(ids(100, 17), 30, b);
    while (counters.preemptions.get() == 0) {
      assertThat(clock.runNext()).as("a preemption happens").isTrue();
    }
    assertThat(later.isWaiting()).isTrue();
    assertThat(batch.snapshot().waiting()).isEqualTo(1);
    int before = b.tokens.size();
    assertThat(before).isPositive();
    clock.runAll();
    // Both finish with every token exactly once; the preempted one resumed where it stopped.
    assertThat(a.tokens).hasSize(30);
    assertThat(b.tokens).hasSize(30);
    assertThat(b.doneAt).isGreaterThan(a.doneAt);
    assertThat(batch.snapshot().heldBlocks()).isZero();
    assertThat(engine.running()).isZero();
    assertThat(engine.waiting()).isZero();
  }

  @Test
  void abortedSequencesLeaveAndFreeTheirBlocks() {
    engine(new JsonObject().put("maxNumSeqs", 1));
    Recorder a = new Recorder();
    Recorder b = new Recorder();
    BatchEngine.Sequence running = submit(ids(0, 32), 10, a);
    BatchEngine.Sequence queued = submit(ids(100, 32), 10, b);
    clock.runNext();
    assertThat(engine.waiting()).isEqualTo(1);
    batch.abort(queued);
    assertThat(engine.waiting()).isZero();
    batch.abort(running);
    assertThat(engine.running()).isZero();
    assertThat(batch.snapshot().heldBlocks()).isZero();
    clock.runAll();
    assertThat(a.tokens).hasSize(1);
    assertThat(a.doneAt).isEqualTo(-1);
    assertThat(b.tokens).isEmpty();
  }

  @Test
  void aContinuationWithNothingLeftIsDoneAfterItsPrefill() {
    engine(new JsonObject());
    Recorder r = new Recorder();
    BatchEngine.Sequence seq = submit(ids(0, 20), 0, r);
    clock.runAll();
    assertThat(r.tokens).isEmpty();
    assertThat(r.doneAt).isPositive();
    assertThat(seq.timeToFirstTokenNanos()).isEqualTo(cost(1, 20));
    assertThat(counters.e2e.count()).isEqualTo(1);
  }
}
