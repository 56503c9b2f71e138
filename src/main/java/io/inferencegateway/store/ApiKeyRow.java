package io.inferencegateway.store;

import java.time.Instant;
import java.util.List;

/**
 * One row of {@code api_keys}. It holds the key's hash, never the key: the hash must still never leave the gateway
 * (see {@code toPublicJson} in the admin API).
 *
 * @param models the model names this key may use, or null for all models
 * @param priority the key's priority class for fair admission (0..9, higher first; null: {@link #DEFAULT_PRIORITY}); a
 *     request may ask for a lower one with {@code X-Priority}
 * @param maxConcurrentRequests requests of this key in the gateway at once (queued or in flight); null: no limit
 * @param queueWeight the key's share when requests wait for a saturated model (null: 1)
 */
public record ApiKeyRow(long id, String userId, String keyHash, String keyPrefix, int allowedRpm, Integer allowedTpm,
                        List<String> models, boolean enabled, Instant expiresAt, Instant createdAt, Instant lastUsedAt,
                        Integer priority, Integer maxConcurrentRequests, Integer queueWeight) {

  public static final int DEFAULT_PRIORITY = 5;
  public static final int MAX_PRIORITY = 9;

  /** A key without admission settings (default priority, no concurrency limit, weight 1). */
  public ApiKeyRow(long id, String userId, String keyHash, String keyPrefix, int allowedRpm, Integer allowedTpm,
                   List<String> models, boolean enabled, Instant expiresAt, Instant createdAt, Instant lastUsedAt) {
    this(id, userId, keyHash, keyPrefix, allowedRpm, allowedTpm, models, enabled, expiresAt, createdAt, lastUsedAt,
        null, null, null);
  }

  public int priorityOrDefault() {
    return priority == null ? DEFAULT_PRIORITY : priority;
  }

  public int queueWeightOrDefault() {
    return queueWeight == null ? 1 : Math.max(1, queueWeight);
  }
}
