package io.inferencegateway.hyperstack;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * What the gateway reads of a Hyperstack VM (the API's {@code instance} object).
 *
 * @param status CREATING, BUILD, ACTIVE, ERROR, ... as the API reports it
 * @param floatingIp the public IP, null until Hyperstack has attached it (often some time after ACTIVE)
 * @param fixedIp the private IP inside the environment's network
 * @param securityRules the VM's firewall rules; null when the answer did not include them
 */
public record Vm(long id, String name, String status, String floatingIp, String fixedIp,
                 List<SecurityRule> securityRules) {

  public static final String CREATING = "CREATING";
  public static final String BUILD = "BUILD";
  public static final String ACTIVE = "ACTIVE";
  public static final String ERROR = "ERROR";

  public static Vm fromJson(JsonObject json) {
    Long id = json.getLong("id");
    if (id == null) {
      throw new IllegalArgumentException("the VM object has no id");
    }
    List<SecurityRule> rules = null;
    JsonArray array = json.getJsonArray("security_rules");
    if (array != null) {
      rules = new ArrayList<>();
      for (Object o : array) {
        if (o instanceof JsonObject rule) {
          rules.add(SecurityRule.fromJson(rule));
        }
      }
    }
    return new Vm(id, json.getString("name"), json.getString("status"), blankToNull(json.getString("floating_ip")),
        blankToNull(json.getString("fixed_ip")), rules == null ? null : List.copyOf(rules));
  }

  public boolean active() {
    return ACTIVE.equalsIgnoreCase(status);
  }

  public boolean error() {
    return ERROR.equalsIgnoreCase(status);
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }
}
