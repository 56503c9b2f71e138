package io.inferencegateway.store;

import java.time.Instant;
import java.util.List;

/**
 * One row of {@code api_keys}. It holds the key's hash, never the key: the hash must still never leave the gateway
 * (see {@code toPublicJson} in the admin API).
 *
 * @param models the model names this key may use, or null for all models
 */
public record ApiKeyRow(long id, String userId, String keyHash, String keyPrefix, int allowedRpm, Integer allowedTpm,
                        List<String> models, boolean enabled, Instant expiresAt, Instant createdAt, Instant lastUsedAt) {
}
