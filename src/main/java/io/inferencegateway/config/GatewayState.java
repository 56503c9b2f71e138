package io.inferencegateway.config;

/**
 * What {@code GET /health/ready} reports, set by the parts that know it and read by every ingress event loop:
 * whether the gateway is draining (shutting down), whether usage records can be journaled, and whether the database
 * took the last usage batch. Thread-safe (volatile flags).
 */
public final class GatewayState {

  private volatile boolean draining;
  private volatile boolean journalWritable;
  private volatile boolean databaseReachable = true;

  public boolean draining() {
    return draining;
  }

  /** New requests are refused with 503 from now on; requests in flight go on. */
  public void startDraining() {
    draining = true;
  }

  public boolean journalWritable() {
    return journalWritable;
  }

  public void journalWritable(boolean writable) {
    journalWritable = writable;
  }

  public boolean databaseReachable() {
    return databaseReachable;
  }

  public void databaseReachable(boolean reachable) {
    databaseReachable = reachable;
  }

  /** Ready for traffic: not draining, and usage can be kept (journal writable, or else the database reachable). */
  public boolean ready() {
    return !draining && (journalWritable || databaseReachable);
  }
}
