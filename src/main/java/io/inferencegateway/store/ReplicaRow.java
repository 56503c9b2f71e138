package io.inferencegateway.store;

import java.time.Instant;

/**
 * One row of {@code replicas}: a vLLM server for a model, either registered by endpoint or provisioned on Hyperstack
 * (then the VM columns are set and {@code vmStatus} goes PENDING → SUCCESS or FAILED).
 */
public record ReplicaRow(long id, long modelId, String endpoint, Integer rateLimit, Integer weight, String flavorName,
                         String vmStatus, String name, String environmentName, String imageName,
                         Boolean assignFloatingIp, String runCommand, String keyName, Long vmId, Integer port,
                         String errorMessage, Instant createdAt, Instant updatedAt) {

  public static final String PENDING = "PENDING";
  public static final String SUCCESS = "SUCCESS";
  public static final String FAILED = "FAILED";
}
