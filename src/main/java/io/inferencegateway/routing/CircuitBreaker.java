package io.inferencegateway.routing;

import io.inferencegateway.config.GatewayConfig;

import java.util.function.DoubleSupplier;

/**
 * One replica's circuit breaker: closed → open (after {@code consecutiveFailures} in a row, or a failure ratio over
 * the last {@code window} calls) → half-open after a cool-down with jitter (one probe request at a time) → closed on
 * the probe's success, or open again for twice as long on its failure. Connect errors and timeouts open it at once:
 * a replica that cannot be reached or hangs should cost one request, not five.
 * Time comes from the caller, so the state machine is tested without sleeping. Thread-safe (event loops share it).
 */
public final class CircuitBreaker {

  public enum State { CLOSED, HALF_OPEN, OPEN }

  /** Told about every state change, outside the lock. */
  public interface Listener {
    void changed(State from, State to, String reason);
  }

  private final GatewayConfig.Breaker settings;
  private final DoubleSupplier random;
  private final boolean[] window;
  private Listener listener = (from, to, reason) -> { };

  private State state = State.CLOSED;
  private int windowNext;
  private int windowCount;
  private int windowFailures;
  private int consecutiveFailures;
  private long openUntilMs;
  private long currentOpenMs;
  private boolean probeInFlight;

  public CircuitBreaker(GatewayConfig.Breaker settings, DoubleSupplier random) {
    this.settings = settings;
    this.random = random;
    this.window = new boolean[Math.max(1, settings.window())];
    this.currentOpenMs = settings.openMs();
  }

  public void listener(Listener listener) {
    this.listener = listener;
  }

  public synchronized State state() {
    return state;
  }

  /** Whether a request could be sent now, without claiming anything (for choosing among replicas). */
  public synchronized boolean mayAllow(long nowMs) {
    return switch (state) {
      case CLOSED -> true;
      case OPEN -> nowMs >= openUntilMs;
      case HALF_OPEN -> !probeInFlight;
    };
  }

  /** Claims the right to send a request now; in half-open state only one probe is out at a time. */
  public boolean tryAcquire(long nowMs) {
    State from;
    synchronized (this) {
      switch (state) {
        case CLOSED:
          return true;
        case HALF_OPEN:
          if (probeInFlight) {
            return false;
          }
          probeInFlight = true;
          return true;
        default:
          if (nowMs < openUntilMs) {
            return false;
          }
          from = state;
          state = State.HALF_OPEN;
          probeInFlight = true;
      }
    }
    listener.changed(from, State.HALF_OPEN, "cool-down over, probing");
    return true;
  }

  public void onSuccess() {
    boolean closed = false;
    synchronized (this) {
      record(false);
      consecutiveFailures = 0;
      if (state == State.HALF_OPEN) {
        state = State.CLOSED;
        probeInFlight = false;
        currentOpenMs = settings.openMs();
        resetWindow();
        closed = true;
      }
    }
    if (closed) {
      listener.changed(State.HALF_OPEN, State.CLOSED, "probe succeeded");
    }
  }

  /**
   * @param severe a connect error or timeout: opens the breaker at once
   */
  public void onFailure(long nowMs, boolean severe, String reason) {
    State from;
    synchronized (this) {
      record(true);
      consecutiveFailures++;
      from = state;
      if (state == State.HALF_OPEN) {
        probeInFlight = false;
        currentOpenMs = Math.min(settings.maxOpenMs(), currentOpenMs * 2);
        open(nowMs);
      } else if (state == State.CLOSED && (severe || tripped())) {
        currentOpenMs = settings.openMs();
        open(nowMs);
      } else {
        return;
      }
    }
    listener.changed(from, State.OPEN, reason);
  }

  /** A request that claimed a probe ended without telling either way (e.g. the client left): free the probe. */
  public synchronized void release() {
    if (state == State.HALF_OPEN) {
      probeInFlight = false;
    }
  }

  /** The health check saw the replica come back: skip the rest of the cool-down and probe with the next request. */
  public void healthRecovered(long nowMs) {
    synchronized (this) {
      if (state != State.OPEN) {
        return;
      }
      openUntilMs = Math.min(openUntilMs, nowMs);
    }
  }

  public synchronized long openUntilMs() {
    return state == State.OPEN ? openUntilMs : 0;
  }

  private boolean tripped() {
    if (consecutiveFailures >= settings.consecutiveFailures()) {
      return true;
    }
    return windowCount >= settings.minCalls() && windowFailures >= settings.failureRatio() * windowCount;
  }

  private void open(long nowMs) {
    state = State.OPEN;
    double jitter = 1 + settings.jitter() * (2 * random.getAsDouble() - 1);
    openUntilMs = nowMs + Math.max(1, (long) (currentOpenMs * jitter));
    resetWindow();
  }

  private void record(boolean failure) {
    if (windowCount == window.length) {
      if (window[windowNext]) {
        windowFailures--;
      }
    } else {
      windowCount++;
    }
    window[windowNext] = failure;
    if (failure) {
      windowFailures++;
    }
    windowNext = (windowNext + 1) % window.length;
  }

  private void resetWindow() {
    windowNext = 0;
    windowCount = 0;
    windowFailures = 0;
    consecutiveFailures = 0;
  }
}
