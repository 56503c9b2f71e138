package io.inferencegateway.metrics;

import io.inferencegateway.config.Addresses;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;

import java.util.ArrayList;
import java.util.List;

/**
 * Collects the usage records of one ingress event loop and sends them to the metrics writer as a {@link UsageBatch}
 * every {@code flushMs} or when {@code maxRecords} are waiting. Used from that event loop only.
 */
public final class UsageBatcher {

  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);

  private final Vertx vertx;
  private final int maxRecords;
  private final long timer;
  private List<UsageRecord> pending;

  public UsageBatcher(Vertx vertx, long flushMs, int maxRecords) {
    this.vertx = vertx;
    this.maxRecords = maxRecords;
    this.pending = new ArrayList<>(maxRecords);
    this.timer = vertx.setPeriodic(flushMs, id -> flush());
  }

  private boolean closed;

  public void add(UsageRecord record) {
    pending.add(record);
    if (closed || pending.size() >= maxRecords) {
      flush();
    }
  }

  public void flush() {
    if (pending.isEmpty()) {
      return;
    }
    List<UsageRecord> out = pending;
    pending = new ArrayList<>(maxRecords);
    // local only: in cluster mode the records of a request are written by the instance that served it
    vertx.eventBus().send(Addresses.METRICS_RECORD, new UsageBatch(out), LOCAL);
  }

  /**
   * Sends what is left and stops the timer (the verticle is stopping); a record added later (a request that ended in
   * the same turn as the drain) is sent at once.
   */
  public void close() {
    closed = true;
    vertx.cancelTimer(timer);
    flush();
  }
}
