package io.inferencegateway.hyperstack;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/** The body of {@code POST /core/virtual-machines} for one VM. {@code userData} is a {@code #cloud-config}. */
public record VmSpec(String name, String environmentName, String imageName, String flavorName, String keyName,
                     boolean assignFloatingIp, List<SecurityRule> securityRules, String userData) {

  public JsonObject toJson() {
    JsonArray rules = new JsonArray();
    securityRules.forEach(r -> rules.add(r.toJson()));
    return new JsonObject()
        .put("name", name)
        .put("environment_name", environmentName)
        .put("image_name", imageName)
        .put("flavor_name", flavorName)
        .put("key_name", keyName)
        .put("count", 1)
        .put("assign_floating_ip", assignFloatingIp)
        .put("security_rules", rules)
        .put("user_data", userData);
  }

  @Override
  public String toString() {
    // user_data may carry tokens in the run command (HF_TOKEN=...): keep it out of logs.
    return "VmSpec[name=" + name + ", environment=" + environmentName + ", image=" + imageName + ", flavor="
        + flavorName + ", key=" + keyName + ", floatingIp=" + assignFloatingIp + ", rules=" + securityRules.size()
        + ", userData=" + userData.length() + " chars]";
  }
}
