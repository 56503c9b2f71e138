package io.inferencegateway.admin;

import io.inferencegateway.hyperstack.ReplicaKeys;
import io.inferencegateway.routing.UpstreamTarget;
import io.inferencegateway.store.ModelRow;
import io.inferencegateway.store.ModelStore;
import io.inferencegateway.store.ReplicaRow;
import io.inferencegateway.store.SecurityRuleRow;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Replicas: {@code GET|POST /models/{id}/replicas}, {@code PUT /models/replicas/{id}}, {@code DELETE /replicas/{id}}.
 * A replica is registered by endpoint (routable at once) or, with {@code create_vm}, recorded as PENDING with its VM
 * details and firewall rules for the Hyperstack provisioner, which is told on the event bus.
 */
final class ReplicaHandlers {

  static final String REPLICA_NOT_FOUND = "Replica not found";
  static final String NO_HYPERSTACK_KEY = "Deploying replicas on Hyperstack needs a Hyperstack API key, and none is"
      + " configured (set HYPERSTACK_API_KEY, or hyperstack.apiKey in the configuration file).";
  static final String NO_HYPERSTACK_KEY_DELETE = "Deleting the replica's VM on Hyperstack needs a Hyperstack API key,"
      + " and none is configured (set HYPERSTACK_API_KEY, or delete the replica without delete_vm).";
  /** The toolkit's rule for VM names: no leading or trailing space; letters, digits, '_', spaces and hyphens. */
  private static final Pattern VM_NAME = Pattern.compile("(?U)^[^ ][\\w -]*[^ ]$");
  private static final Pattern IPV4 = Pattern.compile("^(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})$");
  private static final Pattern IPV6 = Pattern.compile("^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$");
  private static final int TEXT_MAX = 255;
  private static final String ANYWHERE = "0.0.0.0/0";
  static final String OPEN_REPLICAS = "Refusing to create a replica VM whose vLLM port would be open to the whole"
      + " internet: hyperstack.gatewayCidr is 0.0.0.0/0. Set it (or HYPERSTACK_GATEWAY_CIDR) to the gateway's address"
      + " (e.g. 203.0.113.7/32), or set hyperstack.allowOpenReplicas (HYPERSTACK_ALLOW_OPEN_REPLICAS) to true if open"
      + " replicas are intended (their API key still guards inference).";
  static final String BAD_API_KEY = "Must be 8 to 256 characters: letters, digits or -._~+/=.";

  private final AdminContext admin;

  ReplicaHandlers(AdminContext admin) {
    this.admin = admin;
  }

  /** {@code GET /models/{id}/replicas}: the toolkit's fields, plus security rules and live state from the router. */
  Future<?> list(RoutingContext ctx) {
    ModelStore store = admin.services.models();
    long modelId = modelId(ctx);
    return store.modelById(modelId).compose(found -> {
      found.orElseThrow(() -> AdminFailure.notFound(ModelHandlers.MODEL_NOT_FOUND));
      return Future.all(store.replicasOf(modelId), store.securityRulesOfModel(modelId));
    }).compose(all -> {
      List<ReplicaRow> replicas = all.resultAt(0);
      List<SecurityRuleRow> rules = all.resultAt(1);
      JsonArray out = new JsonArray();
      for (ReplicaRow r : replicas) {
        out.add(AdminJson.replica(r, rules, admin.services.registry().replica(r.id())));
      }
      return AdminContext.json(ctx, 200, out);
    });
  }

  private static long modelId(RoutingContext ctx) {
    Long id = ModelHandlers.pathId(ctx);
    if (id == null) {
      throw AdminFailure.notFound(ModelHandlers.MODEL_NOT_FOUND);
    }
    return id;
  }

  /** What a valid {@code POST /models/{id}/replicas} asks for. */
  private record NewReplicaRequest(String endpoint, Integer rateLimit, boolean createVm, VmDetails vm, String apiKey) {

    @Override
    public String toString() {
      return "NewReplicaRequest[endpoint=" + endpoint + ", createVm=" + createVm + "]";
    }
  }

  private record VmDetails(String name, String environmentName, String imageName, String flavorName, String keyName,
                           String runCommand, int port, boolean assignFloatingIp, List<SecurityRuleRow> rules) {}

  /** {@code POST /models/{id}/replicas} → 201 {@code {replica_id}}. */
  Future<?> create(RoutingContext ctx) {
    NewReplicaRequest req = parseCreate(ctx);
    long modelId = modelId(ctx);
    ModelStore store = admin.services.models();
    return store.modelById(modelId).compose(found -> {
      ModelRow model = found.orElseThrow(() -> AdminFailure.notFound(ModelHandlers.MODEL_NOT_FOUND));
      return req.createVm() ? createPending(model, req) : createByEndpoint(model, req);
    }).compose(replicaId -> AdminContext.json(ctx, 201, new JsonObject().put("replica_id", replicaId)));
  }

  private Future<Long> createByEndpoint(ModelRow model, NewReplicaRequest req) {
    ModelStore store = admin.services.models();
    return store.endpointExists(model.id(), req.endpoint()).compose(exists -> {
      if (exists) {
        throw AdminFailure.error(400, "Endpoint already exists");
      }
      return store.insertReplica(ModelStore.NewReplica.byEndpoint(model.id(), req.endpoint(), req.rateLimit(),
          req.apiKey()), List.of());
    }).compose(id -> admin.modelsChanged(model.id()).map(id));
  }

  private Future<Long> createPending(ModelRow model, NewReplicaRequest req) {
    if (admin.config.hyperstack().apiKey() == null) {
      return Future.failedFuture(AdminFailure.error(400, NO_HYPERSTACK_KEY));
    }
    if (admin.config.hyperstack().opensReplicasToEveryone() && !admin.config.hyperstack().allowOpenReplicas()) {
      return Future.failedFuture(AdminFailure.error(400, OPEN_REPLICAS));
    }
    VmDetails vm = req.vm();
    // the replica's vLLM key: the one sent, else the one its run command sets, else a new one the gateway passes on
    String apiKey = req.apiKey() != null ? req.apiKey() : ReplicaKeys.fromRunCommand(vm.runCommand());
    if (apiKey != null && !ReplicaKeys.safe(apiKey)) {
      return Future.failedFuture(AdminFailure.error(400, "run_command sets an API key the gateway cannot use as it is"
          + " (a variable, or characters other than letters, digits and -._~+/=): leave it out, and the gateway"
          + " generates one and passes it to vLLM, or send it as api_key."));
    }
    if (apiKey == null) {
      apiKey = ReplicaKeys.generate();
    }
    ModelStore.NewReplica row = new ModelStore.NewReplica(model.id(), null, req.rateLimit(), null, ReplicaRow.PENDING,
        vm.name(), vm.flavorName(), vm.environmentName(), vm.imageName(), vm.assignFloatingIp(), vm.runCommand(),
        vm.keyName(), vm.port(), apiKey);
    return admin.services.models().insertReplica(row, withDefaultRules(vm, admin.config.hyperstack().gatewayCidr(),
            admin.config.hyperstack().sshCidr()))
        .compose(id -> admin.modelsChanged(model.id()).map(id))
        .onSuccess(id -> admin.provisioning(new JsonObject().put("replica_id", id).put("action", "create")));
  }

  /**
   * The client's rules plus the vLLM port open to the gateway ({@code hyperstack.gatewayCidr}: this gateway does not
   * know its public address) and SSH from {@code hyperstack.sshCidr} when set. The toolkit opened SSH to 0.0.0.0/0;
   * this gateway never adds that silently (send a rule in {@code security_rules} if you want it).
   */
  private static List<SecurityRuleRow> withDefaultRules(VmDetails vm, String gatewayCidr, String sshCidr) {
    Set<SecurityRuleRow> rules = new LinkedHashSet<>(vm.rules());
    rules.add(new SecurityRuleRow(0, 0, "ingress", "tcp", "IPv4", gatewayCidr, vm.port(), vm.port()));
    if (sshCidr != null) {
      rules.add(new SecurityRuleRow(0, 0, "ingress", "tcp", "IPv4", sshCidr, 22, 22));
    }
    return List.copyOf(rules);
  }

  private NewReplicaRequest parseCreate(RoutingContext ctx) {
    FieldErrors errors = new FieldErrors();
    JsonInput in = AdminContext.body(ctx, errors, "endpoint", "rate_limit", "create_vm", "vm_creation_details",
        "api_key");
    String endpoint = in.string("endpoint", false, true);
    String apiKey = apiKey(in);
    Long rateLimit = in.integer("rate_limit", false, true, 1L, (long) Integer.MAX_VALUE);
    Boolean createVm = in.bool("create_vm", false);
    JsonInput vmInput = in.object("vm_creation_details", false, "name", "environment_name", "image_name",
        "flavor_name", "key_name", "run_command", "port", "assign_floating_ip", "security_rules");
    VmDetails vm = vmInput == null ? null : vmDetails(vmInput);
    String normalized = null;
    if (!Boolean.TRUE.equals(createVm)) {
      if (endpoint == null || endpoint.isBlank()) {
        if (!errors.toJson().containsKey("endpoint")) {
          errors.add("endpoint", "LLM EndPoint URL must not be empty.");
        }
      } else {
        try {
          normalized = UpstreamTarget.parse(endpoint).baseUrl();
          if (normalized.length() > TEXT_MAX) {
            errors.add("endpoint", "Longer than maximum length " + TEXT_MAX + ".");
          }
        } catch (IllegalArgumentException e) {
          errors.add("endpoint", "Not a valid http(s) URL: " + e.getMessage());
        }
      }
    } else if (vmInput == null && !in.has("vm_creation_details")) {
      errors.add("vm_creation_details", "VM creation details must be provided when create_vm is True.");
    }
    in.rejectUnknown();
    errors.throwIfAny();
    return new NewReplicaRequest(normalized, rateLimit == null ? null : rateLimit.intValue(), createVm, vm, apiKey);
  }

  /** The optional {@code api_key} field: the replica's vLLM {@code --api-key} (null or absent: none). */
  private static String apiKey(JsonInput in) {
    if (!in.has("api_key")) {
      return null;
    }
    String key = in.string("api_key", false, true);
    if (key == null || key.isEmpty()) {
      return null;
    }
    if (!ReplicaKeys.safe(key)) {
      in.errors().add("api_key", BAD_API_KEY);
      return null;
    }
    return key;
  }

  private static VmDetails vmDetails(JsonInput in) {
    FieldErrors errors = in.errors();
    String name = in.text("name", true, false, TEXT_MAX);
    if (name != null && !VM_NAME.matcher(name).matches()) {
      errors.add("name", "Invalid name format. Name must not start or end with a space and can contain"
          + " alphanumeric characters, spaces, and hyphens.");
    }
    String environment = in.text("environment_name", true, false, TEXT_MAX);
    String image = in.text("image_name", true, false, TEXT_MAX);
    String flavor = in.text("flavor_name", true, false, TEXT_MAX);
    String keyName = in.text("key_name", true, false, TEXT_MAX);
    String runCommand = in.text("run_command", true, false, 65_535);
    Long port = in.integer("port", true, false, 1L, 65_535L);
    Boolean floatingIp = in.bool("assign_floating_ip", true);
    List<SecurityRuleRow> rules = securityRules(in);
    in.rejectUnknown();
    if (name == null || environment == null || image == null || flavor == null || keyName == null
        || runCommand == null || port == null || floatingIp == null || rules == null) {
      return null;
    }
    return new VmDetails(name, environment, image, flavor, keyName, runCommand, port.intValue(), floatingIp, rules);
  }

  private static List<SecurityRuleRow> securityRules(JsonInput in) {
    if (!in.has("security_rules")) {
      return List.of();
    }
    JsonArray list = in.list("security_rules", false, false);
    if (list == null) {
      return null;
    }
    FieldErrors listErrors = in.errors().child("security_rules");
    List<SecurityRuleRow> rules = new ArrayList<>();
    boolean ok = true;
    for (int i = 0; i < list.size(); i++) {
      FieldErrors itemErrors = listErrors.child(i);
      if (!(list.getValue(i) instanceof JsonObject item)) {
        itemErrors.addSchema(JsonInput.INVALID_INPUT);
        ok = false;
        continue;
      }
      SecurityRuleRow rule = securityRule(new JsonInput(item, itemErrors, "direction", "protocol", "ethertype",
          "remote_ip_prefix", "port_range_min", "port_range_max"));
      ok &= rule != null;
      rules.add(rule);
    }
    return ok ? rules : null;
  }

  private static SecurityRuleRow securityRule(JsonInput in) {
    String direction = in.oneOf("direction", "ingress", List.of("ingress", "egress"));
    String protocol = in.oneOf("protocol", "tcp", List.of("tcp", "udp"));
    String ethertype = in.oneOf("ethertype", "IPv4", List.of("IPv4", "IPv6"));
    String prefix = in.has("remote_ip_prefix") ? in.string("remote_ip_prefix", false, false) : ANYWHERE;
    if (prefix != null && ethertype != null && !validPrefix(prefix, ethertype)) {
      in.errors().add("remote_ip_prefix", "Not a valid " + ethertype + " address or prefix (e.g. "
          + ("IPv4".equals(ethertype) ? "203.0.113.7/32" : "2001:db8::/64") + ").");
      prefix = null;
    }
    Long min = in.integer("port_range_min", true, false, 0L, 65_535L);
    Long max = in.integer("port_range_max", true, false, 0L, 65_535L);
    if (min != null && max != null && min > max) {
      in.errors().add("port_range_min", "port_range_min must be less than or equal to port_range_max.");
      min = null;
    }
    in.rejectUnknown();
    if (direction == null || protocol == null || ethertype == null || prefix == null || min == null || max == null) {
      return null;
    }
    return new SecurityRuleRow(0, 0, direction, protocol, ethertype, prefix, min.intValue(), max.intValue());
  }

  static boolean validPrefix(String prefix, String ethertype) {
    String[] parts = prefix.split("/", -1);
    if (parts.length > 2) {
      return false;
    }
    boolean v4 = "IPv4".equals(ethertype);
    if (parts.length == 2) {
      Long len = parts[1].matches("\\d{1,3}") ? Long.parseLong(parts[1]) : null;
      if (len == null || len > (v4 ? 32 : 128)) {
        return false;
      }
    }
    if (v4) {
      var m = IPV4.matcher(parts[0]);
      if (!m.matches()) {
        return false;
      }
      for (int g = 1; g <= 4; g++) {
        if (Integer.parseInt(m.group(g)) > 255) {
          return false;
        }
      }
      return true;
    }
    return IPV6.matcher(parts[0]).matches() && parts[0].length() <= 45;
  }

  /**
   * {@code PUT /models/replicas/{id} {rate_limit, api_key}} → 204 (null clears the limit, or the key). Either field
   * may be left out when the other is sent; a new {@code api_key} is what the gateway sends from now on (to rotate a
   * replica's key: restart its vLLM with the new key, then send it here).
   */
  Future<?> update(RoutingContext ctx) {
    FieldErrors errors = new FieldErrors();
    JsonInput in = AdminContext.body(ctx, errors, "rate_limit", "api_key");
    boolean keyGiven = in.has("api_key");
    boolean limitGiven = in.has("rate_limit") || !keyGiven;
    Long rateLimit = in.integer("rate_limit", !keyGiven, true, 1L, (long) Integer.MAX_VALUE);
    String apiKey = apiKey(in);
    in.rejectUnknown();
    errors.throwIfAny();
    Long id = ModelHandlers.pathId(ctx);
    if (id == null) {
      return Future.failedFuture(AdminFailure.notFound(REPLICA_NOT_FOUND));
    }
    ModelStore store = admin.services.models();
    return store.replicaById(id).compose(found -> {
      ReplicaRow replica = found.orElseThrow(() -> AdminFailure.notFound(REPLICA_NOT_FOUND));
      Future<Boolean> limit = limitGiven
          ? store.updateRateLimit(id, rateLimit == null ? null : rateLimit.intValue()) : Future.succeededFuture(true);
      return limit.compose(v -> keyGiven ? store.updateApiKey(id, apiKey) : Future.succeededFuture(true))
          .compose(v -> admin.modelsChanged(replica.modelId()));
    }).compose(v -> AdminContext.noContent(ctx));
  }

  /**
   * {@code DELETE /replicas/{id}[?delete_vm=true]} → 204, with its security rules. A replica that does not exist
   * also answers 204 (as the toolkit did). With {@code delete_vm} and a VM id, the provisioner is told to delete the
   * VM on Hyperstack.
   */
  Future<?> delete(RoutingContext ctx) {
    boolean deleteVm = ModelHandlers.queryBoolean(ctx, "delete_vm");
    Long id = ModelHandlers.pathId(ctx);
    if (id == null) {
      return AdminContext.noContent(ctx);
    }
    ModelStore store = admin.services.models();
    return store.replicaById(id).compose(found -> {
      if (found.isEmpty()) {
        return Future.succeededFuture();
      }
      ReplicaRow replica = found.get();
      boolean vmToDelete = deleteVm && replica.vmId() != null;
      if (vmToDelete && admin.config.hyperstack().apiKey() == null) {
        throw AdminFailure.error(400, NO_HYPERSTACK_KEY_DELETE);
      }
      return store.deleteReplica(id)
          .compose(v -> admin.modelsChanged(replica.modelId()))
          .onSuccess(v -> {
            if (vmToDelete) {
              admin.provisioning(new JsonObject().put("replica_id", id).put("action", "delete")
                  .put("vm_id", replica.vmId()));
            }
          });
    }).compose(v -> AdminContext.noContent(ctx));
  }
}
