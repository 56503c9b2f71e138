package io.inferencegateway.hyperstack;

import io.inferencegateway.store.SecurityRuleRow;
import io.vertx.core.json.JsonObject;

/**
 * A firewall rule of a Hyperstack VM, in the API's field names ({@code direction}, {@code protocol},
 * {@code ethertype}, {@code remote_ip_prefix}, {@code port_range_min}, {@code port_range_max}). Null ports mean
 * every port, as in the API.
 */
public record SecurityRule(String direction, String protocol, String ethertype, String remoteIpPrefix,
                           Integer portRangeMin, Integer portRangeMax) {

  public static SecurityRule ingressTcp(String remoteIpPrefix, int port) {
    return new SecurityRule("ingress", "tcp", "IPv4", remoteIpPrefix, port, port);
  }

  public static SecurityRule of(SecurityRuleRow row) {
    return new SecurityRule(row.direction(), row.protocol(), row.ethertype(), row.remoteIpPrefix(),
        row.portRangeMin(), row.portRangeMax());
  }

  public static SecurityRule fromJson(JsonObject json) {
    return new SecurityRule(json.getString("direction"), json.getString("protocol"), json.getString("ethertype"),
        json.getString("remote_ip_prefix"), json.getInteger("port_range_min"), json.getInteger("port_range_max"));
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("direction", direction).put("protocol", protocol)
        .put("ethertype", ethertype).put("remote_ip_prefix", remoteIpPrefix);
    if (portRangeMin != null) {
      json.put("port_range_min", portRangeMin);
    }
    if (portRangeMax != null) {
      json.put("port_range_max", portRangeMax);
    }
    return json;
  }

  /** Whether this rule lets TCP traffic from {@code prefix} in on {@code port} (same prefix, or 0.0.0.0/0). */
  public boolean opensTcp(int port, String prefix) {
    return "ingress".equalsIgnoreCase(direction) && "tcp".equalsIgnoreCase(protocol)
        && (remoteIpPrefix.equals(prefix) || "0.0.0.0/0".equals(remoteIpPrefix) || "::/0".equals(remoteIpPrefix))
        && (portRangeMin == null || portRangeMin <= port) && (portRangeMax == null || port <= portRangeMax);
  }

  /** Same rule, ignoring the case of the enumerated fields (the API may answer "TCP" for "tcp"). */
  public boolean sameAs(SecurityRule other) {
    return direction.equalsIgnoreCase(other.direction) && protocol.equalsIgnoreCase(other.protocol)
        && ethertype.equalsIgnoreCase(other.ethertype) && remoteIpPrefix.equals(other.remoteIpPrefix)
        && java.util.Objects.equals(portRangeMin, other.portRangeMin)
        && java.util.Objects.equals(portRangeMax, other.portRangeMax);
  }
}
