package io.inferencegateway.ingress;

import io.inferencegateway.config.GatewayConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What all clients together may make the gateway hold, shared by every ingress event loop: the request bodies being
 * read or held by requests in progress (one budget in bytes, reserved as bytes arrive), and open client connections,
 * in total and per client address. Thread-safe.
 */
public final class ClientLimits {

  /** The holder of the admin API's bodies in {@link #reserve}. */
  public static final long ADMIN = -1;

  /** Seconds a client refused for want of body budget is asked to wait. */
  static final long BUSY_RETRY_AFTER_SECONDS = 1;

  private final long budgetBytes;
  private final int maxConnections;
  private final int maxPerAddress;
  private final AtomicLong buffered = new AtomicLong();
  private final long perHolderBytes;
  private final ConcurrentHashMap<Long, AtomicLong> perHolder = new ConcurrentHashMap<>();
  private final AtomicInteger connections = new AtomicInteger();
  private final ConcurrentHashMap<String, Integer> perAddress = new ConcurrentHashMap<>();
  private final Counter busy;
  private final Counter refusedTotal;
  private final Counter refusedPerAddress;

  public ClientLimits(GatewayConfig.Clients settings, MeterRegistry meters) {
    this.budgetBytes = settings.bodyBudgetBytes();
    this.perHolderBytes = settings.bodyBudgetPerKeyBytes();
    this.maxConnections = settings.maxConnections();
    this.maxPerAddress = settings.maxConnectionsPerAddress();
    Gauge.builder("gateway_request_bodies_buffered_bytes", buffered, AtomicLong::get)
        .description("Bytes of request bodies being read or held by requests in progress (http.bodyBudgetBytes)")
        .register(meters);
    Gauge.builder("gateway_client_connections", connections, AtomicInteger::get)
        .description("Open client connections").register(meters);
    busy = Counter.builder("gateway_requests_refused_busy_total")
        .description("Requests answered 503 server_busy: the request body budget was used up").register(meters);
    refusedTotal = Counter.builder("gateway_connections_refused_total").tag("limit", "total")
        .description("Client connections closed on arrival: too many open").register(meters);
    refusedPerAddress = Counter.builder("gateway_connections_refused_total").tag("limit", "per_address")
        .description("Client connections closed on arrival: too many open").register(meters);
  }

  /**
   * Takes {@code bytes} of the body budget for a request of {@code holder} (an API key's id; {@link #ADMIN} for the
   * admin API): false, and nothing taken, if that would pass the budget or the holder's share of it.
   */
  public boolean reserve(long holder, long bytes) {
    AtomicLong mine = perHolder.computeIfAbsent(holder, k -> new AtomicLong());
    if (mine.addAndGet(bytes) > perHolderBytes) {
      mine.addAndGet(-bytes);
      busy.increment();
      return false;
    }
    while (true) {
      long now = buffered.get();
      if (now + bytes > budgetBytes) {
        mine.addAndGet(-bytes);
        busy.increment();
        return false;
      }
      if (buffered.compareAndSet(now, now + bytes)) {
        return true;
      }
    }
  }

  /** Gives back what {@link #reserve} took for {@code holder}. */
  public void release(long holder, long bytes) {
    if (bytes > 0) {
      buffered.addAndGet(-bytes);
      AtomicLong mine = perHolder.get(holder); // kept once made (one small counter per key that sent a body)
      if (mine != null) {
        mine.addAndGet(-bytes);
      }
    }
  }

  /** Bytes of the budget {@code holder} holds now. */
  public long buffered(long holder) {
    AtomicLong mine = perHolder.get(holder);
    return mine == null ? 0 : mine.get();
  }

  /** Bytes of the budget in use now. */
  public long buffered() {
    return buffered.get();
  }

  public int connections() {
    return connections.get();
  }

  /** A connection from {@code address} arrived: true if it may stay (then {@link #closed} must follow). */
  boolean opened(String address) {
    if (maxConnections > 0 && connections.incrementAndGet() > maxConnections) {
      connections.decrementAndGet();
      refusedTotal.increment();
      return false;
    } else if (maxConnections <= 0) {
      connections.incrementAndGet();
    }
    if (maxPerAddress > 0) {
      boolean[] ok = {true};
      perAddress.compute(address, (k, n) -> {
        int count = n == null ? 0 : n;
        if (count >= maxPerAddress) {
          ok[0] = false;
          return n;
        }
        return count + 1;
      });
      if (!ok[0]) {
        connections.decrementAndGet();
        refusedPerAddress.increment();
        return false;
      }
    }
    return true;
  }

  /** A connection {@link #opened} from {@code address} closed. */
  void closed(String address) {
    connections.decrementAndGet();
    if (maxPerAddress > 0) {
      perAddress.computeIfPresent(address, (k, n) -> n <= 1 ? null : n - 1);
    }
  }

  /** The 503 of a request whose body does not fit in the budget now. */
  public static IngressFailure busy() {
    return new IngressFailure(503, "service_unavailable", "server_busy", null,
        "The gateway is holding as many request bodies as it may; try again shortly.", BUSY_RETRY_AFTER_SECONDS, false);
  }
}
