package io.inferencegateway.store;

import java.time.Instant;

/** One row of {@code llm_models}. {@code routingStrategy} null means the gateway's default. */
public record ModelRow(long id, String name, String routingStrategy, Instant createdAt) {}
