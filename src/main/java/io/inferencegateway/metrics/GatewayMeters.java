package io.inferencegateway.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The gateway's own Prometheus meters. Per-request meters are updated by the metrics writer from usage records, off
 * the hot path; the ingress only touches the in-flight gauge. Meters with tags are cached so a record costs map
 * look-ups, not meter registration.
 */
public final class GatewayMeters {

  private final MeterRegistry registry;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicLong usageBuffered = new AtomicLong();
  private final AtomicLong usageJournalBytes = new AtomicLong();
  private final Counter usageDropped;
  private final Counter redisFailures;
  private final Counter usageWriteFailures;
  private final Counter unauthorized;
  private final ConcurrentHashMap<String, ModelMeters> models = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Counter> failovers = new ConcurrentHashMap<>();
  private volatile java.util.function.Supplier<io.vertx.core.json.JsonObject> admission =
      io.vertx.core.json.JsonObject::new;
  private final ConcurrentHashMap<String, Counter> affinityHits = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Counter> affinityMisses = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Counter> resumes = new ConcurrentHashMap<>();

  public GatewayMeters(MeterRegistry registry) {
    this.registry = registry;
    Gauge.builder("gateway_requests_in_flight", inFlight, AtomicInteger::get)
        .description("Requests being proxied right now").register(registry);
    Gauge.builder("gateway_usage_records_buffered", usageBuffered, AtomicLong::get)
        .description("Journaled usage records held in memory for the database").register(registry);
    Gauge.builder("gateway_usage_journal_bytes", usageJournalBytes, AtomicLong::get)
        .description("Bytes of usage records in the journal not yet stored in the database").register(registry);
    usageDropped = Counter.builder("gateway_usage_records_dropped")
        .description("Usage records dropped because the usage journal was full (usage.journal.maxBytes)")
        .register(registry);
    redisFailures = Counter.builder("gateway_ratelimit_redis_failures")
        .description("Rate-limit checks that fell back because Redis failed or was slow").register(registry);
    unauthorized = Counter.builder("gateway_requests_unauthorized")
        .description("Requests refused for a missing, unknown, disabled or expired API key").register(registry);
    usageWriteFailures = Counter.builder("gateway_usage_write_failures")
        .description("Failed attempts to write a batch of usage records").register(registry);
  }

  public MeterRegistry registry() {
    return registry;
  }

  public AtomicInteger inFlight() {
    return inFlight;
  }

  public AtomicLong usageBuffered() {
    return usageBuffered;
  }

  public AtomicLong usageJournalBytes() {
    return usageJournalBytes;
  }

  public Counter usageDropped() {
    return usageDropped;
  }

  public Counter redisFailures() {
    return redisFailures;
  }

  public Counter unauthorized() {
    return unauthorized;
  }

  public Counter usageWriteFailures() {
    return usageWriteFailures;
  }

  /** Counts one fail-over: a request retried on another replica before anything reached the client. */
  public void failover(String model) {
    failovers.computeIfAbsent(model, m -> Counter.builder("gateway_failovers")
        .description("Requests retried on another replica (before anything reached the client), by model")
        .tag("model", m).register(registry)).increment();
  }

  /** Where the live feed gets fair admission's state by model (set by the admission gate). */
  public void admissionSource(java.util.function.Supplier<io.vertx.core.json.JsonObject> source) {
    this.admission = source;
  }

  /** Fair admission by model since the last call: queue length, admitted, waits (for the live feed). */
  public io.vertx.core.json.JsonObject admissionSnapshot() {
    return admission.get();
  }

  /**
   * Counts one routing decision for a request with an affinity key: a hit went to the replica its key went to before
   * (whose prefix cache should hold it), a miss went elsewhere (a new key, or that replica was too busy).
   */
  public void affinity(String model, boolean hit) {
    (hit ? affinityHits : affinityMisses).computeIfAbsent(model, m -> Counter.builder(
            hit ? "gateway_router_affinity_hits" : "gateway_router_affinity_misses")
        .description(hit ? "Requests routed to the replica their affinity key went to before, by model"
            : "Requests with an affinity key routed elsewhere (a new key, or its replica was too busy), by model")
        .tag("model", m).register(registry)).increment();
  }

  /** Counts one resume: a broken stream continued on another replica. */
  public void resumed(String model) {
    resumes.computeIfAbsent(model == null ? "none" : model, m -> Counter.builder("gateway_stream_resumes")
        .description("Broken streams continued on another replica, by model")
        .tag("model", m).register(registry)).increment();
  }

  /** Counts one finished request (called by the metrics writer). */
  public void record(UsageRecord r) {
    String model = r.model() == null ? "none" : r.model();
    ModelMeters m = models.get(model); // one look-up per record: no key strings or lambdas built on the hot path
    if (m == null) {
      m = models.computeIfAbsent(model, ModelMeters::new);
    }
    m.requests(r.status()).increment();
    if (r.promptTokens() > 0) {
      m.tokens(true).increment(r.promptTokens());
    }
    if (r.completionTokens() > 0) {
      m.tokens(false).increment(r.completionTokens());
    }
    if (r.replicaId() != null) {
      m.latency().record(r.durationNanos(), TimeUnit.NANOSECONDS);
      if (r.ttftNanos() >= 0) {
        m.ttft().record(r.ttftNanos(), TimeUnit.NANOSECONDS);
      }
    }
  }

  /**
   * The meters of one model, each registered the first time it is needed (a series appears with its first value, as
   * before); the status counters by code (100 to 599 in an array, anything else in a map).
   */
  private final class ModelMeters {
    private final String model;
    private final AtomicReferenceArray<Counter> byStatus = new AtomicReferenceArray<>(500);
    private final ConcurrentHashMap<Integer, Counter> otherStatus = new ConcurrentHashMap<>();
    private volatile Counter prompt;
    private volatile Counter completion;
    private volatile Timer latency;
    private volatile Timer ttft;

    ModelMeters(String model) {
      this.model = model;
    }

    Counter requests(int status) {
      if (status < 100 || status > 599) {
        return otherStatus.computeIfAbsent(status, this::requestCounter);
      }
      Counter c = byStatus.get(status - 100);
      if (c == null) {
        c = requestCounter(status); // the registry hands out the same counter for the same tags: a race is harmless
        byStatus.set(status - 100, c);
      }
      return c;
    }

    private Counter requestCounter(int status) {
      return Counter.builder("gateway_requests").description("Requests by model and HTTP status")
          .tag("model", model).tag("status", Integer.toString(status)).register(registry);
    }

    Counter tokens(boolean isPrompt) {
      Counter c = isPrompt ? prompt : completion;
      if (c == null) {
        c = tokenCounter(model, isPrompt ? "prompt" : "completion");
        if (isPrompt) {
          prompt = c;
        } else {
          completion = c;
        }
      }
      return c;
    }

    Timer latency() {
      Timer t = latency;
      if (t == null) {
        latency = t = Timer.builder("gateway_upstream_latency")
            .description("Time from request to the end of the answer, for requests that reached a replica")
            .tag("model", model).publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofMinutes(10))
            .register(registry);
      }
      return t;
    }

    Timer ttft() {
      Timer t = ttft;
      if (t == null) {
        ttft = t = Timer.builder("gateway_time_to_first_token")
            .description("Time from request to the first byte (non-streaming) or event (streaming) of the answer")
            .tag("model", model).publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofMinutes(2))
            .register(registry);
      }
      return t;
    }
  }

  private Counter tokenCounter(String model, String type) {
    return Counter.builder("gateway_tokens")
        .description("Tokens by model and type (prompt or completion)").tag("model", model).tag("type", type)
        .register(registry);
  }
}
