package io.inferencegateway.admin;

import io.inferencegateway.hyperstack.ReplicaKeys;
import io.inferencegateway.routing.ReplicaState;
import io.inferencegateway.store.ApiKeyRow;
import io.inferencegateway.store.ModelRow;
import io.inferencegateway.store.ReplicaRow;
import io.inferencegateway.store.SecurityRuleRow;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

/** The JSON views of rows the admin API answers with. None of them carries a key hash or any other secret. */
final class AdminJson {

  private AdminJson() {}

  /** An API key without its secret: what {@code GET /api_keys} lists. */
  static JsonObject key(ApiKeyRow k) {
    return new JsonObject()
        .put("id", k.id())
        .put("user_id", k.userId())
        .put("prefix", k.keyPrefix())
        .put("allowed_rpm", k.allowedRpm())
        .put("allowed_tpm", k.allowedTpm())
        .put("models", k.models() == null ? null : new JsonArray(List.copyOf(k.models())))
        .put("enabled", k.enabled())
        .put("expires_at", time(k.expiresAt()))
        .put("created_at", time(k.createdAt()))
        .put("last_used_at", time(k.lastUsedAt()))
        .put("priority", k.priority())
        .put("max_concurrent_requests", k.maxConcurrentRequests())
        .put("queue_weight", k.queueWeight());
  }

  /** The toolkit's model shape {@code {id, name}} plus what the console needs. */
  static JsonObject model(ModelRow m, int replicas, boolean active) {
    return new JsonObject()
        .put("id", m.id())
        .put("name", m.name())
        .put("replicas", replicas)
        .put("active", active)
        .put("routing_strategy", m.routingStrategy())
        .put("created_at", time(m.createdAt()));
  }

  /** The toolkit's replica fields, then this gateway's: port, weight, times, security rules, runtime state. */
  static JsonObject replica(ReplicaRow r, List<SecurityRuleRow> rules, ReplicaState state) {
    JsonArray ruleJson = new JsonArray();
    for (SecurityRuleRow rule : rules) {
      if (rule.replicaId() == r.id()) {
        ruleJson.add(rule(rule));
      }
    }
    return new JsonObject()
        .put("id", r.id())
        .put("model_id", r.modelId())
        .put("endpoint", r.endpoint())
        .put("rate_limit", r.rateLimit())
        .put("flavor_name", r.flavorName())
        .put("vm_status", r.vmStatus())
        .put("name", r.name())
        .put("environment_name", r.environmentName())
        .put("image_name", r.imageName())
        .put("assign_floating_ip", r.assignFloatingIp())
        .put("run_command", ReplicaKeys.mask(r.runCommand())) // never its tokens
        .put("api_key_set", r.apiKey() != null) // never the key
        .put("key_name", r.keyName())
        .put("vm_id", r.vmId())
        .put("error_message", r.errorMessage())
        .put("port", r.port())
        .put("weight", r.weight())
        .put("created_at", time(r.createdAt()))
        .put("updated_at", time(r.updatedAt()))
        .put("security_rules", ruleJson)
        .put("state", state == null ? null : state.stateJson());
  }

  static JsonObject rule(SecurityRuleRow rule) {
    return new JsonObject()
        .put("id", rule.id())
        .put("direction", rule.direction())
        .put("protocol", rule.protocol())
        .put("ethertype", rule.ethertype())
        .put("remote_ip_prefix", rule.remoteIpPrefix())
        .put("port_range_min", rule.portRangeMin())
        .put("port_range_max", rule.portRangeMax());
  }

  /** ISO-8601 in UTC, to the millisecond as stored (a row just inserted may still carry finer precision). */
  static String time(Instant t) {
    return t == null ? null : t.truncatedTo(ChronoUnit.MILLIS).toString();
  }
}
