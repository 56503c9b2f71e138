package io.inferencegateway.simulator;

import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;

/**
 * The instant engine's scheduler: {@code maxNumSeqs} slots, a FIFO queue behind them; and the counters that
 * {@code /metrics} and {@code /sim/stats} report for both engines (the faithful one, {@link BatchEngine},
 * schedules its own requests and reports through {@link #adjust}).
 *
 * <p>Queue and slot changes happen on the verticle's event loop only; the counters are atomics so that
 * other threads (tests, the gateway's demo wiring) can read them.
 */
final class Engine {

  /** Per-model gauges and Prometheus counters. */
  static final class ModelCounters {
    final AtomicInteger running = new AtomicInteger();
    final AtomicInteger waiting = new AtomicInteger();
    final AtomicLong promptTokens = new AtomicLong();
    final AtomicLong generationTokens = new AtomicLong();
    /** Prefix-cache lookups and hits, in tokens (the faithful engine; the instant one has no cache). */
    final AtomicLong prefixQueries = new AtomicLong();
    final AtomicLong prefixHits = new AtomicLong();
    final AtomicLong preemptions = new AtomicLong();
    final Histogram ttft = new Histogram(Histogram.TTFT_BUCKETS);
    final Histogram e2e = new Histogram(Histogram.LATENCY_BUCKETS);
  }

  static final String[] FAULT_KINDS = {"error", "unavailable", "hang", "drop"};

  private final IntSupplier maxNumSeqs;
  private final ArrayDeque<Exchange> queue = new ArrayDeque<>();
  private final AtomicInteger running = new AtomicInteger();
  private final AtomicInteger waiting = new AtomicInteger();
  private final ConcurrentHashMap<String, ModelCounters> models = new ConcurrentHashMap<>();
  private boolean draining;

  final AtomicLong requests = new AtomicLong();
  final AtomicLong completed = new AtomicLong();
  final AtomicLong cancelled = new AtomicLong();
  private final ConcurrentHashMap<String, AtomicLong> byPath = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, AtomicLong> faults = new ConcurrentHashMap<>();

  Engine(IntSupplier maxNumSeqs) {
    this.maxNumSeqs = maxNumSeqs;
    for (String kind : FAULT_KINDS) {
      faults.put(kind, new AtomicLong());
    }
  }

  ModelCounters model(String name) {
    ModelCounters c = models.get(name);
    return c != null ? c : models.computeIfAbsent(name, k -> new ModelCounters());
  }

  void received(String pathKey) {
    requests.incrementAndGet();
    AtomicLong c = byPath.get(pathKey);
    if (c == null) {
      c = byPath.computeIfAbsent(pathKey, k -> new AtomicLong());
    }
    c.incrementAndGet();
  }

  void fault(String kind) {
    faults.get(kind).incrementAndGet();
  }

  int running() {
    return running.get();
  }

  /** The faithful engine's requests changed state: the same gauges as the instant engine's. */
  void adjust(ModelCounters c, int runningDelta, int waitingDelta) {
    if (runningDelta != 0) {
      running.addAndGet(runningDelta);
      c.running.addAndGet(runningDelta);
    }
    if (waitingDelta != 0) {
      waiting.addAndGet(waitingDelta);
      c.waiting.addAndGet(waitingDelta);
    }
  }

  int waiting() {
    return waiting.get();
  }

  /** Starts the exchange now if a slot is free and nobody queues before it, else queues it. */
  void submit(Exchange x) {
    if (queue.isEmpty() && running.get() < maxNumSeqs.getAsInt()) {
      admit(x);
    } else {
      queue.addLast(x);
      waiting.incrementAndGet();
      x.counters.waiting.incrementAndGet();
      x.queued();
    }
  }

  /** A queued exchange whose client left; it stays in the deque and is skipped when polled. */
  void withdraw(Exchange x) {
    waiting.decrementAndGet();
    x.counters.waiting.decrementAndGet();
  }

  /** A running exchange is over: free its slot and start whoever waits. */
  void release(Exchange x) {
    running.decrementAndGet();
    x.counters.running.decrementAndGet();
    drain();
  }

  /** Admits queued exchanges while slots are free; also called when maxNumSeqs grows. */
  void drain() {
    // An exchange with zero delays finishes inside admit() and calls release() again: loop, don't recurse.
    if (draining) {
      return;
    }
    draining = true;
    try {
      while (running.get() < maxNumSeqs.getAsInt()) {
        Exchange next = queue.pollFirst();
        if (next == null) {
          break;
        }
        if (!next.isQueued()) {
          continue;
        }
        waiting.decrementAndGet();
        next.counters.waiting.decrementAndGet();
        admit(next);
      }
    } finally {
      draining = false;
    }
  }

  private void admit(Exchange x) {
    running.incrementAndGet();
    x.counters.running.incrementAndGet();
    x.counters.promptTokens.addAndGet(x.request.totalPromptTokens());
    x.run();
  }

  SimulatorStats snapshot() {
    Map<String, Long> paths = new LinkedHashMap<>();
    byPath.forEach((k, v) -> paths.put(k, v.get()));
    Map<String, Long> f = new LinkedHashMap<>();
    faults.forEach((k, v) -> f.put(k, v.get()));
    return new SimulatorStats(requests.get(), completed.get(), cancelled.get(), running.get(), waiting.get(),
        paths, f);
  }

  /** Resets the request counters; gauges and the Prometheus counters keep going, as in a real server. */
  void resetStats() {
    requests.set(0);
    completed.set(0);
    cancelled.set(0);
    byPath.clear();
    faults.values().forEach(c -> c.set(0));
  }
}
