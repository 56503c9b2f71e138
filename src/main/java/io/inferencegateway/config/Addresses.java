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
  /** Progress of a replica being provisioned on Hyperstack. */
  public static final String REPLICAS_PROVISIONING = "gateway.replicas.provisioning";
}
