package io.inferencegateway.metrics;

import java.util.List;

/**
 * Usage records of one ingress event loop, handed to the metrics writer together: one event-bus message (and one
 * wake-up of the writer's thread) per batch instead of per request.
 */
public record UsageBatch(List<UsageRecord> records) {}
