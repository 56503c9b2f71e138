package io.inferencegateway.routing;

import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.limits.TokenBucket;
import io.inferencegateway.store.ReplicaRow;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A replica as the router sees it at runtime: its configuration (a database row) and its live state — requests in
 * flight, health, circuit breaker, the load vLLM last reported, its own requests-per-minute bucket and counters.
 * Shared by every ingress event loop, so live parts are atomics, volatiles or synchronised. When the configuration
 * reloads, the live state is carried over for a replica whose endpoint did not change.
 */
public final class ReplicaState {

  private final ReplicaRow row;
  private final String modelName;
  private final UpstreamTarget target;
  private final Live live;

  /** The live part, shared by successive configurations of the same replica. */
  private static final class Live {
    final AtomicInteger inFlight = new AtomicInteger();
    /** Requests in flight whose first answer byte has not come yet: their prompts are still being computed. */
    final AtomicInteger awaitingFirstByte = new AtomicInteger();
    /** Streamed requests of those: for them the first byte marks the end of the prefill (a whole answer does not). */
    final AtomicInteger streamsComputingPrompts = new AtomicInteger();
    final AtomicLong requests = new AtomicLong();
    final AtomicLong failures = new AtomicLong();
    final AtomicLong retries = new AtomicLong();
    final CircuitBreaker breaker;
    volatile TokenBucket rpm;
    volatile boolean healthy = true;
    volatile String lastError;
    volatile long lastErrorAtMs;
    volatile long lastCheckedAtMs;
    volatile LoadReport load;
    volatile int inFlightAtScrape;

    Live(GatewayConfig.Breaker breakerSettings) {
      breaker = new CircuitBreaker(breakerSettings, () -> ThreadLocalRandom.current().nextDouble());
    }
  }

  public ReplicaState(ReplicaRow row, String modelName, UpstreamTarget target, GatewayConfig.Breaker breaker) {
    this(row, modelName, target, new Live(breaker));
  }

  private ReplicaState(ReplicaRow row, String modelName, UpstreamTarget target, Live live) {
    this.row = row;
    this.modelName = modelName;
    this.target = target;
    this.live = live;
  }

  /** The same live state under a new configuration row (same endpoint). */
  ReplicaState withRow(ReplicaRow newRow, String newModelName) {
    return new ReplicaState(newRow, newModelName, target, live);
  }

  public long id() {
    return row.id();
  }

  public long modelId() {
    return row.modelId();
  }

  public String modelName() {
    return modelName;
  }

  public ReplicaRow row() {
    return row;
  }

  public UpstreamTarget target() {
    return target;
  }

  public CircuitBreaker breaker() {
    return live.breaker;
  }

  public int inFlight() {
    return live.inFlight.get();
  }

  /** Only a {@link ReplicaLease} counts requests in and out. */
  void requestStarted() {
    live.inFlight.incrementAndGet();
    live.awaitingFirstByte.incrementAndGet();
    live.requests.incrementAndGet();
  }

  void firstByteCame() {
    live.awaitingFirstByte.decrementAndGet();
  }

  void requestEnded() {
    live.inFlight.decrementAndGet();
  }

  public int awaitingFirstByte() {
    return live.awaitingFirstByte.get();
  }

  void streamComputing() {
    live.streamsComputingPrompts.incrementAndGet();
  }

  void streamComputed() {
    live.streamsComputingPrompts.decrementAndGet();
  }

  /** Streamed requests whose first byte has not come: vLLM is computing (or about to compute) their prompts. */
  public int streamsComputingPrompts() {
    return live.streamsComputingPrompts.get();
  }

  public long requests() {
    return live.requests.get();
  }

  public long failures() {
    return live.failures.get();
  }

  public long retries() {
    return live.retries.get();
  }

  void countRetry() {
    live.retries.incrementAndGet();
  }

  /** A request to this replica failed (connect error, timeout, 5xx or a broken stream). */
  void failed(long nowMs, boolean severe, String reason) {
    live.failures.incrementAndGet();
    live.lastError = reason;
    live.lastErrorAtMs = nowMs;
    live.breaker.onFailure(nowMs, severe, reason);
  }

  void succeeded() {
    live.breaker.onSuccess();
  }

  public boolean healthy() {
    return live.healthy;
  }

  public String lastError() {
    return live.lastError;
  }

  /** Records a health check's result; returns true if the health changed. */
  public boolean markHealth(boolean up, String error) {
    boolean changed = live.healthy != up;
    live.healthy = up;
    live.lastCheckedAtMs = System.currentTimeMillis();
    if (!up) {
      live.lastError = error;
      live.lastErrorAtMs = live.lastCheckedAtMs;
    } else if (changed) {
      live.breaker.healthRecovered(live.lastCheckedAtMs);
    }
    return changed;
  }

  public long lastCheckedAtMs() {
    return live.lastCheckedAtMs;
  }

  public LoadReport load() {
    return live.load;
  }

  public void load(LoadReport report) {
    live.inFlightAtScrape = live.inFlight.get();
    live.load = report;
  }

  /** Whether the router may consider this replica at all (its breaker is judged separately). */
  public boolean routable() {
    return live.healthy && ReplicaRow.SUCCESS.equals(row.vmStatus());
  }

  /** How long until the replica's own requests-per-minute limit lets a request through; 0 if now (or no limit). */
  public long rateLimitWaitMs(long nowMs) {
    Integer limit = row.rateLimit();
    if (limit == null || limit <= 0) {
      return 0;
    }
    double level = bucket(limit, nowMs).level(limit, nowMs);
    return level >= 1 ? 0 : (long) Math.ceil((1 - level) * 60_000d / limit);
  }

  /** Takes one request from the replica's per-minute allowance; false if it has none left. */
  public boolean tryTakeRate(long nowMs) {
    Integer limit = row.rateLimit();
    if (limit == null || limit <= 0) {
      return true;
    }
    return bucket(limit, nowMs).tryTake(limit, 1, 1, nowMs) < 0;
  }

  private TokenBucket bucket(int limit, long nowMs) {
    TokenBucket b = live.rpm;
    if (b == null) {
      synchronized (live) {
        b = live.rpm;
        if (b == null) {
          b = new TokenBucket(limit, nowMs); // starts full
          live.rpm = b;
        }
      }
    }
    return b;
  }

  /** What strategies see of this replica now. */
  public ReplicaView view(long nowMs, long loadStaleMs) {
    LoadReport load = live.load;
    return new ReplicaView(row.id(), live.inFlight.get(), load != null && load.freshAt(nowMs, loadStaleMs) ? load : null,
        row.weight() == null ? 1 : row.weight(), live.inFlightAtScrape, live.awaitingFirstByte.get());
  }

  public JsonObject stateJson() {
    LoadReport load = live.load;
    CircuitBreaker.State breaker = live.breaker.state();
    long openUntil = live.breaker.openUntilMs();
    return new JsonObject()
        .put("replica_id", row.id())
        .put("model_id", row.modelId())
        .put("model", modelName)
        .put("endpoint", target.baseUrl())
        .put("healthy", live.healthy)
        .put("breaker", breaker.name().toLowerCase().replace('_', '-'))
        .put("breaker_open_until", openUntil == 0 ? null : Instant.ofEpochMilli(openUntil).toString())
        .put("in_flight", live.inFlight.get())
        .put("requests", live.requests.get())
        .put("failures", live.failures.get())
        .put("retries", live.retries.get())
        .put("last_error", live.lastError)
        .put("last_error_at", live.lastErrorAtMs == 0 ? null : Instant.ofEpochMilli(live.lastErrorAtMs).toString())
        .put("last_checked_at", live.lastCheckedAtMs == 0 ? null : Instant.ofEpochMilli(live.lastCheckedAtMs).toString())
        .put("load", load == null ? null : new JsonObject()
            .put("running", load.running()).put("waiting", load.waiting())
            .put("kv_cache_usage", load.kvCacheUsage())
            .put("scraped_at", Instant.ofEpochMilli(load.scrapedAtMs()).toString()));
  }
}
