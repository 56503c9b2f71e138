package io.inferencegateway.ingress;

import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.limits.FairQueue;
import io.inferencegateway.routing.LoadReport;
import io.inferencegateway.routing.ModelRegistry;
import io.inferencegateway.routing.ModelRoute;
import io.inferencegateway.routing.ReplicaState;
import io.inferencegateway.store.ApiKeyRow;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * Fair admission, shared by every ingress event loop of the gateway. A request takes a {@link Ticket} before it is
 * routed and gives it back when it ends ({@link Finish}):
 *
 * <ul>
 *   <li>a key with {@code max_concurrent_requests} holds at most that many tickets (queued or in flight); one more is
 *       refused at once, 429 {@code concurrency_limit_exceeded};</li>
 *   <li>when admission is on and every routable replica of the model is saturated (its vLLM reports more waiting
 *       requests than {@code maxWaitingPerReplica} or more KV-cache use than {@code maxKvCacheUsage}, or it has
 *       {@code maxInFlightPerReplica} requests from the gateway), or the gateway already holds that many tickets for
 *       the model per replica, the request waits in the model's {@link FairQueue} instead of piling into vLLM's
 *       first-come queue. It leaves by priority class, then weighted fair share across keys, when a ticket is given
 *       back or the replicas' load drops ({@link #drainAll}, on a short timer);</li>
 *   <li>with the in-flight cap, the last {@code reservedPerReplica} slots of each replica are kept, while more than
 *       one key uses the model, for keys holding less than their fair share of its slots (the cap times the routable
 *       replicas, over the keys with requests admitted or waiting): a key that saturates the model leaves them free,
 *       so a light key's request finds a batch slot at once instead of waiting for one of the heavy key's requests to
 *       end, and it is paced to one streamed prompt being computed per replica (see {@link #saturated}). A key alone
 *       uses every slot;</li>
 *   <li>a full queue refuses at once (429 {@code queue_full}), a request that waited {@code maxWaitMs} is refused
 *       (429 {@code queue_timeout}), both with Retry-After; a client that leaves gives its place back.</li>
 * </ul>
 *
 * <p>Each model's queue has its own lock, held for a few map operations; waiters are resumed on their own event loop.
 */
public final class AdmissionGate {

  private static final Logger log = LoggerFactory.getLogger(AdmissionGate.class);

  /** Timers for the waits (Vert.x timers on the waiter's event loop; tests may use their own). */
  public interface Timers {
    long set(Context context, long delayMs, Runnable action);

    void cancel(Context context, long id);
  }

  static final Timers VERTX_TIMERS = new Timers() {
    @Override
    public long set(Context context, long delayMs, Runnable action) {
      return context.owner().setTimer(delayMs, id -> action.run());
    }

    @Override
    public void cancel(Context context, long id) {
      context.owner().cancelTimer(id);
    }
  };

  private final GatewayConfig.Admission settings;
  private final long loadStaleMs;
  private final ModelRegistry registry;
  private final LongSupplier clockMs;
  private final Timers timers;
  private final MeterRegistry meters;
  private final ConcurrentHashMap<String, ModelQueue> queues = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Long, AtomicInteger> byKey = new ConcurrentHashMap<>();
  private final AtomicInteger queuedTotal = new AtomicInteger();

  public AdmissionGate(GatewayConfig.Admission settings, long loadStaleMs, ModelRegistry registry, LongSupplier clockMs,
                       Timers timers, MeterRegistry meters) {
    this.settings = settings;
    this.loadStaleMs = loadStaleMs;
    this.registry = registry;
    this.clockMs = clockMs;
    this.timers = timers;
    this.meters = meters;
  }

  /** The gateway's gate; the live feed reads its state through {@code meters}. */
  public AdmissionGate(GatewayConfig config, ModelRegistry registry, io.inferencegateway.metrics.GatewayMeters meters) {
    this(config.admission(), config.router().loadStaleMs(), registry, System::currentTimeMillis, VERTX_TIMERS,
        meters.registry());
    meters.admissionSource(this::liveSnapshot);
  }

  /**
   * By model: requests waiting and admitted now, and the waits that ended since the last call (count, mean and
   * longest in ms). For the live feed, once a second.
   */
  public io.vertx.core.json.JsonObject liveSnapshot() {
    io.vertx.core.json.JsonObject out = new io.vertx.core.json.JsonObject();
    for (ModelQueue q : queues.values()) {
      synchronized (q) {
        out.put(q.model, new io.vertx.core.json.JsonObject().put("queue_length", q.length.get())
            .put("admitted", q.admitted).put("waited", q.liveWaits)
            .put("wait_ms_avg", q.liveWaits == 0 ? null : q.liveWaitSumMs / q.liveWaits)
            .put("wait_ms_max", q.liveWaits == 0 ? null : q.liveWaitMaxMs));
        q.liveWaits = 0;
        q.liveWaitSumMs = 0;
        q.liveWaitMaxMs = 0;
      }
    }
    return out;
  }

  public GatewayConfig.Admission settings() {
    return settings;
  }

  /** One model's queue, the tickets the gateway holds for it, and its meters. */
  private final class ModelQueue {
    final String model;
    final FairQueue<Waiter> queue = new FairQueue<>();
    int admitted;
    /** Tickets admitted per key, and keys with tickets admitted or waiting (their count), for the reserve. */
    final Map<Long, Integer> admittedByKey = new HashMap<>();
    final Map<Long, Integer> holders = new HashMap<>();
    /** Tickets let in under the reserve whose requests have not been placed on a replica yet (see {@link #saturated}). */
    int pacedUnrouted;
    final AtomicInteger length = new AtomicInteger();
    final Timer waits;
    final Counter queued;
    /** Since the last live snapshot: waits ended by admission, their total and longest. */
    int liveWaits;
    long liveWaitSumMs;
    long liveWaitMaxMs;

    ModelQueue(String model) {
      this.model = model;
      Gauge.builder("gateway_admission_queue_length", length, AtomicInteger::get)
          .description("Requests waiting in the gateway for a saturated model").tag("model", model).register(meters);
      Gauge.builder("gateway_admission_admitted", this, q -> q.admitted)
          .description("Requests the gateway let through to a model and that have not ended").tag("model", model)
          .register(meters);
      waits = Timer.builder("gateway_admission_wait").description("How long requests waited for a saturated model")
          .tag("model", model).publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
          .maximumExpectedValue(Duration.ofMinutes(5)).register(meters);
      queued = Counter.builder("gateway_admission_queued").description("Requests that had to wait for a saturated model")
          .tag("model", model).register(meters);
    }
  }

  private static final class Waiter {
    final Context context;
    final Promise<Ticket> promise;
    final Ticket ticket;
    FairQueue.Entry<Waiter> entry;
    long timer;

    Waiter(Context context, Ticket ticket) {
      this.context = context;
      this.ticket = ticket;
      this.promise = Promise.promise();
    }
  }

  /** A request's place: given back exactly once by {@link #release()}. */
  public final class Ticket {
    private final long keyId;
    private final boolean countedForKey;
    private ModelQueue model;
    private int keepFree;
    private boolean routed;
    private boolean released;

    private Ticket(long keyId, boolean countedForKey) {
      this.keyId = keyId;
      this.countedForKey = countedForKey;
    }

    /**
     * Slots per replica the router should leave free for other keys when it places this request: the reserve when the
     * key held its fair share as it was let in, else 0.
     */
    public int keepFree() {
      return keepFree;
    }

    /** The request was placed on a replica (its lease counts there now). */
    public void routed() {
      if (routed) {
        return;
      }
      routed = true;
      ModelQueue q = model;
      if (q != null && keepFree > 0) {
        synchronized (q) {
          q.pacedUnrouted--;
        }
      }
    }

    /** The replica computed this request's prompt (its first byte came): a request held back for that may go. */
    public void promptComputed() {
      ModelQueue q = model;
      if (q != null && q.length.get() > 0) {
        drain(q);
      }
    }

    /** The request ended (or never got through): frees its place and lets the next waiter in. */
    public void release() {
      if (released) {
        return;
      }
      released = true;
      routed();
      if (countedForKey) {
        AtomicInteger n = byKey.get(keyId);
        if (n != null) {
          n.decrementAndGet();
        }
      }
      ModelQueue q = model;
      if (q != null) {
        synchronized (q) {
          q.admitted--;
          decrement(q.admittedByKey, keyId);
          decrement(q.holders, keyId);
        }
        drain(q);
      }
    }
  }

  /**
   * A ticket for this request: at once when the key is under its concurrency limit and the model is not saturated (or
   * admission is off), after a wait in the model's queue otherwise; a failed future with the 429 to answer.
   *
   * @param priority the request's class (the key's, or lower with {@code X-Priority})
   * @param ex the request: if its client leaves while it waits, it gives its place back
   */
  Future<Ticket> admit(ModelRoute route, ApiKeyRow key, int priority, ProxyExchange ex) {
    Integer limit = key.maxConcurrentRequests();
    boolean counted = limit != null && limit > 0;
    if (counted) {
      AtomicInteger n = byKey.computeIfAbsent(key.id(), id -> new AtomicInteger());
      if (n.incrementAndGet() > limit) {
        n.decrementAndGet();
        rejected(route.name(), "concurrency_limit_exceeded");
        return Future.failedFuture(IngressFailure.concurrencyLimit(limit));
      }
    }
    Ticket ticket = new Ticket(key.id(), counted);
    if (!settings.enabled()) {
      return Future.succeededFuture(ticket);
    }
    ModelQueue q = queues.computeIfAbsent(route.name(), ModelQueue::new);
    Waiter w;
    synchronized (q) {
      int reserve = reserveFor(q, route, key.id());
      if (q.queue.isEmpty() && !saturated(q, route, reserve)) {
        q.holders.merge(key.id(), 1, Integer::sum);
        admitted(q, ticket, reserve);
        return Future.succeededFuture(ticket);
      }
      if (q.queue.size() >= settings.maxQueueLength()) {
        ticket.release();
        rejected(route.name(), "queue_full");
        return Future.failedFuture(IngressFailure.queueFull(route.name(), retryAfterSeconds()));
      }
      Context context = io.vertx.core.Vertx.currentContext();
      w = new Waiter(context, ticket);
      w.entry = q.queue.add(w, key.id(), priority, key.queueWeightOrDefault(), clockMs.getAsLong());
      q.holders.merge(key.id(), 1, Integer::sum);
      q.length.incrementAndGet();
      queuedTotal.incrementAndGet();
      q.queued.increment();
      w.timer = timers.set(context, settings.maxWaitMs(), () -> leave(q, w, false));
    }
    if (log.isDebugEnabled()) {
      log.debug("Request of key {} waits for {} (priority {}, {} waiting)", key.id(), route.name(), priority,
          q.length.get());
    }
    ex.onClientGone(() -> leave(q, w, true));
    // others wait, but a slot kept for keys under their share may be free for this one
    drain(q);
    return w.promise.future();
  }

  /** The waiter times out or its client left: out of the queue, unless it was let in meanwhile. */
  private void leave(ModelQueue q, Waiter w, boolean clientGone) {
    synchronized (q) {
      if (!q.queue.remove(w.entry)) {
        return; // already let in: the pipeline goes on and ends it
      }
      decrement(q.holders, w.entry.keyId());
      q.length.decrementAndGet();
      queuedTotal.decrementAndGet();
    }
    if (clientGone) {
      timers.cancel(w.context, w.timer);
    }
    w.ticket.release();
    long waited = clockMs.getAsLong() - w.entry.enqueuedAtMs();
    if (clientGone) {
      w.promise.tryFail(IngressFailure.CLIENT_GONE);
    } else {
      rejected(q.model, "queue_timeout");
      w.promise.tryFail(IngressFailure.queueTimeout(q.model, waited, retryAfterSeconds()));
    }
  }

  /** Lets waiters of this model in while it has room. */
  private void drain(ModelQueue q) {
    if (q.queue.isEmpty()) {
      return;
    }
    ModelRoute route = registry.model(q.model);
    while (true) {
      Waiter w;
      synchronized (q) {
        if (q.queue.isEmpty() || route == null || saturated(q, route, 0)) {
          return;
        }
        FairQueue.Entry<Waiter> next;
        int reserve = settings.effectiveReserve();
        if (reserve > 0 && q.holders.size() > 1 && saturated(q, route, reserve)) {
          // only the reserved slots are free: the first waiter of a key under its fair share goes
          next = q.queue.pollExcept(keyId -> overShare(q, route, keyId), RESERVE_SCAN);
          if (next == null) {
            return;
          }
        } else {
          next = q.queue.poll();
        }
        w = next.item();
        admitted(q, w.ticket, reserveFor(q, route, next.keyId()));
        q.length.decrementAndGet();
        queuedTotal.decrementAndGet();
      }
      long waited = Math.max(0, clockMs.getAsLong() - w.entry.enqueuedAtMs());
      q.waits.record(waited, TimeUnit.MILLISECONDS);
      synchronized (q) {
        q.liveWaits++;
        q.liveWaitSumMs += waited;
        q.liveWaitMaxMs = Math.max(q.liveWaitMaxMs, waited);
      }
      timers.cancel(w.context, w.timer);
      w.context.runOnContext(v -> w.promise.tryComplete(w.ticket));
    }
  }

  /** Lets waiters in wherever the replicas' load dropped (called on a short timer; cheap when nothing waits). */
  public void drainAll() {
    if (queuedTotal.get() == 0) {
      return;
    }
    for (ModelQueue q : queues.values()) {
      drain(q);
    }
  }

  /** How many waiting requests a drain looks through for one of a key under its share (see {@link FairQueue#pollExcept}). */
  static final int RESERVE_SCAN = 64;

  private static void admitted(ModelQueue q, Ticket ticket, int keepFree) {
    q.admitted++;
    q.admittedByKey.merge(ticket.keyId, 1, Integer::sum);
    ticket.model = q;
    ticket.keepFree = keepFree;
    if (keepFree > 0) {
      q.pacedUnrouted++;
    }
  }

  private static void decrement(Map<Long, Integer> counts, long keyId) {
    counts.computeIfPresent(keyId, (k, n) -> n <= 1 ? null : n - 1);
  }

  /** The slots per replica this key may not take now: the reserve if it holds its fair share or more, else none. */
  private int reserveFor(ModelQueue q, ModelRoute route, long keyId) {
    int reserve = settings.effectiveReserve();
    int keys = q.holders.size() + (q.holders.containsKey(keyId) ? 0 : 1);
    return reserve > 0 && keys > 1 && overShare(q, route, keyId) ? reserve : 0;
  }

  /** Whether the key holds at least its fair share of the model's slots (cap x routable replicas / keys using it). */
  private boolean overShare(ModelQueue q, ModelRoute route, long keyId) {
    int keys = Math.max(1, q.holders.size() + (q.holders.containsKey(keyId) ? 0 : 1));
    long slots = (long) settings.maxInFlightPerReplica() * routable(route);
    return q.admittedByKey.getOrDefault(keyId, 0) * (long) keys >= slots;
  }

  private static int routable(ModelRoute route) {
    int n = 0;
    for (ReplicaState r : route.replicas()) {
      if (r.routable()) {
        n++;
      }
    }
    return n;
  }

  /**
   * Whether every routable replica is saturated, or the gateway holds its in-flight cap for all of them.
   *
   * <p>Under the reserve ({@code reserve > 0}: a key holding its fair share while others use the model), a replica
   * computing a streamed prompt counts as full too, and so do as many replicas as such requests already let in and
   * not placed yet: the key's next request waits until a replica is done with prompts. Prompts computed together share
   * their steps, so a light key's prompt that lands behind a heavy key's two or three takes two or three times as
   * long; paced this way, a replica computes at most one of the heavy key's prompts at a time and the light key's
   * request finds replicas computing none (the router prefers those).
   *
   * @param reserve slots per replica this request may not take (see {@link #reserveFor})
   */
  private boolean saturated(ModelQueue q, ModelRoute route, int reserve) {
    long now = clockMs.getAsLong();
    int cap = settings.maxInFlightPerReplica() - reserve;
    int routable = 0;
    int full = 0;
    for (ReplicaState r : route.replicas()) {
      if (!r.routable()) {
        continue;
      }
      routable++;
      LoadReport load = r.load();
      boolean fresh = load != null && load.freshAt(now, loadStaleMs);
      if ((cap > 0 && r.inFlight() >= cap)
          || (reserve > 0 && r.streamsComputingPrompts() > 0)
          || (fresh && (load.waiting() > settings.maxWaitingPerReplica() || load.kvCacheUsage() > settings.maxKvCacheUsage()))) {
        full++;
      }
    }
    if (routable == 0) {
      return false; // nothing to wait for: the router answers 503
    }
    int pending = reserve > 0 ? q.pacedUnrouted : 0;
    return full + pending >= routable || (cap > 0 && q.admitted >= (long) cap * routable);
  }

  private long retryAfterSeconds() {
    return Math.max(1, Math.min(60, settings.maxWaitMs() / 2000));
  }

  private final ConcurrentHashMap<String, Counter> rejections = new ConcurrentHashMap<>();

  private void rejected(String model, String reason) {
    rejections.computeIfAbsent(model + '\u0000' + reason, k -> Counter.builder("gateway_admission_rejected")
        .description("Requests refused by fair admission, by model and reason (queue_full, queue_timeout, "
            + "concurrency_limit_exceeded)").tag("model", model).tag("reason", reason).register(meters)).increment();
  }

  /** Requests waiting for this model now (for the live feed and tests). */
  public int queued(String model) {
    ModelQueue q = queues.get(model);
    return q == null ? 0 : q.length.get();
  }

  /** Tickets the gateway holds for this model now. */
  public int admitted(String model) {
    ModelQueue q = queues.get(model);
    if (q == null) {
      return 0;
    }
    synchronized (q) {
      return q.admitted;
    }
  }
}
