package io.inferencegateway.store;

/** One row of {@code replica_security_rules}: a firewall rule requested for a provisioned replica's VM. */
public record SecurityRuleRow(long id, long replicaId, String direction, String protocol, String ethertype,
                              String remoteIpPrefix, int portRangeMin, int portRangeMax) {}
