package io.inferencegateway.config;

/** Every event-bus address the gateway uses, in one place. */
public final class Addresses {

  private Addresses() {}

  /** Usage records (one per proxied request), sent locally to the metrics writer in a {@code UsageBatch}. */
  public static final String METRICS_RECORD = "gateway.metrics.record";
  /** A once-a-second summary of traffic, published for the console's live panel and other listeners. */
  public static final String METRICS_LIVE = "gateway.metrics.live";
  /** An API key was created, changed or deleted; body {@code {"id": n}}. */
  public static final String KEYS_CHANGED = "gateway.keys.changed";
  /** A model or one of its replicas was created, changed or deleted; body {@code {"model_id": n}}. */
  public static final String MODELS_CHANGED = "gateway.models.changed";
  /** Runtime state of a replica changed (health, breaker, load). */
  public static final String REPLICAS_STATE = "gateway.replicas.state";
  /**
   * Cluster mode: the leader's health-check results, {@code {"replica_id", "healthy", "error"}}, applied by every
   * member (so health is shared; circuit breakers stay each member's own).
   */
  public static final String REPLICAS_HEALTH = "gateway.replicas.health";
  /**
   * Replicas deployed on Hyperstack: commands to the provisioner ({@code {"replica_id", "action": "create"}},
   * {@code {"replica_id", "action": "delete", "vm_id"}}) and its progress events ({@code {"replica_id", "phase",
   * "message", ...}}, for the console). Messages with an {@code action} are commands.
   */
  public static final String REPLICAS_PROVISIONING = "gateway.replicas.provisioning";
}
