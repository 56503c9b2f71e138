package io.inferencegateway.routing;

import io.inferencegateway.store.ReplicaRow;
import io.vertx.core.json.JsonObject;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A replica as the router sees it at runtime: its configuration (from the database) and its live state (in-flight
 * requests, health). Shared by every ingress event loop, so the live parts are atomics or volatiles. When the
 * configuration reloads, state is carried over for replicas whose endpoint did not change.
 */
public final class ReplicaState {

  private final ReplicaRow row;
  private final UpstreamTarget target;
  private final AtomicInteger inFlight;
  private volatile boolean healthy;
  private volatile String lastError;
  private volatile long lastCheckedAtMs;

  public ReplicaState(ReplicaRow row, UpstreamTarget target) {
    this(row, target, new AtomicInteger(), true, null, 0);
  }

  private ReplicaState(ReplicaRow row, UpstreamTarget target, AtomicInteger inFlight, boolean healthy, String lastError,
                       long lastCheckedAtMs) {
    this.row = row;
    this.target = target;
    this.inFlight = inFlight;
    this.healthy = healthy;
    this.lastError = lastError;
    this.lastCheckedAtMs = lastCheckedAtMs;
  }

  /** The same live state under a new configuration row (same endpoint). */
  ReplicaState withRow(ReplicaRow newRow) {
    return new ReplicaState(newRow, target, inFlight, healthy, lastError, lastCheckedAtMs);
  }

  public long id() {
    return row.id();
  }

  public long modelId() {
    return row.modelId();
  }

  public ReplicaRow row() {
    return row;
  }

  public UpstreamTarget target() {
    return target;
  }

  public int inFlight() {
    return inFlight.get();
  }

  public void requestStarted() {
    inFlight.incrementAndGet();
  }

  public void requestEnded() {
    inFlight.decrementAndGet();
  }

  public boolean healthy() {
    return healthy;
  }

  public String lastError() {
    return lastError;
  }

  /** Records a health check's result; returns true if the health changed. */
  public boolean markHealth(boolean up, String error) {
    boolean changed = this.healthy != up;
    this.healthy = up;
    this.lastError = up ? this.lastError : error;
    this.lastCheckedAtMs = System.currentTimeMillis();
    return changed;
  }

  public long lastCheckedAtMs() {
    return lastCheckedAtMs;
  }

  /** Whether the router may send this replica traffic at all. */
  public boolean routable() {
    return healthy && ReplicaRow.SUCCESS.equals(row.vmStatus());
  }

  public JsonObject stateJson() {
    return new JsonObject()
        .put("replica_id", row.id())
        .put("model_id", row.modelId())
        .put("endpoint", target.baseUrl())
        .put("healthy", healthy)
        .put("in_flight", inFlight.get())
        .put("last_error", lastError)
        .put("last_checked_at", lastCheckedAtMs == 0 ? null : java.time.Instant.ofEpochMilli(lastCheckedAtMs).toString());
  }
}
