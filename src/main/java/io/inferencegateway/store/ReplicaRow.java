package io.inferencegateway.store;

import java.time.Instant;

/**
 * One row of {@code replicas}: a vLLM server for a model, either registered by endpoint or provisioned on Hyperstack
 * (then the VM columns are set and {@code vmStatus} goes PENDING → SUCCESS or FAILED). {@code apiKey} is the key the
 * gateway sends to the replica's vLLM ({@code --api-key}), decrypted (stored sealed in {@code api_key_enc}); null:
 * none. It never leaves the gateway except towards that replica.
 */
public record ReplicaRow(long id, long modelId, String endpoint, Integer rateLimit, Integer weight, String flavorName,
                         String vmStatus, String name, String environmentName, String imageName,
                         Boolean assignFloatingIp, String runCommand, String keyName, Long vmId, Integer port,
                         String errorMessage, Instant createdAt, Instant updatedAt, String apiKey) {

  public static final String PENDING = "PENDING";
  public static final String SUCCESS = "SUCCESS";
  public static final String FAILED = "FAILED";

  /** A replica without an API key. */
  public ReplicaRow(long id, long modelId, String endpoint, Integer rateLimit, Integer weight, String flavorName,
                    String vmStatus, String name, String environmentName, String imageName,
                    Boolean assignFloatingIp, String runCommand, String keyName, Long vmId, Integer port,
                    String errorMessage, Instant createdAt, Instant updatedAt) {
    this(id, modelId, endpoint, rateLimit, weight, flavorName, vmStatus, name, environmentName, imageName,
        assignFloatingIp, runCommand, keyName, vmId, port, errorMessage, createdAt, updatedAt, null);
  }

  @Override
  public String toString() {
    // Never print the key or the run command (it may hold tokens): this string can end up in logs.
    return "ReplicaRow[id=" + id + ", modelId=" + modelId + ", endpoint=" + endpoint + ", vmStatus=" + vmStatus
        + ", name=" + name + ", vmId=" + vmId + ", apiKey=" + (apiKey == null ? "unset" : "set") + "]";
  }
}
