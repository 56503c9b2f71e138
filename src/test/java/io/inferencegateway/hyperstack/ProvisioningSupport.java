package io.inferencegateway.hyperstack;

import io.inferencegateway.config.Addresses;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.simulator.SimulatorSettings;
import io.inferencegateway.simulator.SimulatorVerticle;
import io.inferencegateway.store.ModelRow;
import io.inferencegateway.store.ModelStore;
import io.inferencegateway.store.ReplicaRow;
import io.inferencegateway.store.SecurityRuleRow;
import io.inferencegateway.support.FakeHyperstack;
import io.inferencegateway.support.GatewayHarness;
import io.inferencegateway.support.Poll;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * Helpers of the provisioning tests: gateway settings pointing at a {@link FakeHyperstack}, PENDING replicas seeded the
 * way the admin API records them, the provisioning command, waiting for the outcome, and the progress events.
 */
final class ProvisioningSupport {

  private ProvisioningSupport() {}

  static final String ENVIRONMENT = "default-CANADA-1";
  static final String IMAGE = "Ubuntu Server 22.04 LTS R535 CUDA 12.2 with Docker";
  static final String FLAVOR = "n3-RTX-A6000x1";

  /** Settings for tests: 100 ms polls, short deadlines, 1.5 s API calls. */
  static GatewayConfig.Hyperstack hyperstack(FakeHyperstack fake, long vmTimeoutMs, long healthTimeoutMs) {
    return new GatewayConfig.Hyperstack(FakeHyperstack.API_KEY, fake.baseUrl(), "0.0.0.0/0", 100, vmTimeoutMs,
        healthTimeoutMs, 1500);
  }

  static String runCommand(String model, int port) {
    return "docker run -d --gpus all --ipc=host -p " + port + ":8000 vllm/vllm-openai:latest --model " + model;
  }

  /** The firewall rules the admin API records: the client's, the vLLM port, and SSH. */
  static List<SecurityRuleRow> rules(int port) {
    return List.of(
        new SecurityRuleRow(0, 0, "ingress", "tcp", "IPv4", "198.51.100.0/24", 9100, 9100),
        new SecurityRuleRow(0, 0, "ingress", "tcp", "IPv4", "0.0.0.0/0", port, port),
        new SecurityRuleRow(0, 0, "ingress", "tcp", "IPv4", "0.0.0.0/0", 22, 22));
  }

  /** Inserts a PENDING replica with VM details, as the admin API does for {@code create_vm: true}. */
  static long pendingReplica(GatewayHarness gw, ModelRow model, String vmName, int port, boolean floatingIp) {
    ModelStore.NewReplica row = new ModelStore.NewReplica(model.id(), null, null, null, ReplicaRow.PENDING, vmName,
        FLAVOR, ENVIRONMENT, IMAGE, floatingIp, runCommand(model.name(), port), "test-key", port);
    return gw.app.services().models().insertReplica(row, rules(port)).await();
  }

  static void requestCreate(GatewayHarness gw, long replicaId) {
    gw.app.vertx().eventBus().publish(Addresses.REPLICAS_PROVISIONING,
        new JsonObject().put("replica_id", replicaId).put("action", "create"));
  }

  /** What the admin API does for {@code DELETE /replicas/{id}?delete_vm=true}: delete the row, then tell. */
  static void deleteReplicaAndVm(GatewayHarness gw, long replicaId, Long vmId) {
    gw.app.services().models().deleteReplica(replicaId).await();
    gw.reloadModels();
    gw.app.vertx().eventBus().publish(Addresses.REPLICAS_PROVISIONING,
        new JsonObject().put("replica_id", replicaId).put("action", "delete").put("vm_id", vmId));
  }

  static ReplicaRow replica(GatewayHarness gw, long id) {
    return gw.app.services().models().replicaById(id).await().orElse(null);
  }

  /** Waits until the replica is no longer PENDING (or the timeout passes) and returns its row. */
  /**
   * Waits until the replica leaves PENDING; on SUCCESS also until the router has it (the row is written just before
   * the registry reloads, so a request sent the instant the row says SUCCESS could still find no replica).
   */
  static ReplicaRow awaitOutcome(GatewayHarness gw, long id, long timeoutMs) throws InterruptedException {
    ReplicaRow row = awaitRow(gw, id, timeoutMs, r -> !ReplicaRow.PENDING.equals(r.vmStatus()));
    if (row != null && ReplicaRow.SUCCESS.equals(row.vmStatus())) {
      eventually(timeoutMs, () -> {
        var state = gw.app.services().registry().replica(id);
        return state != null && state.routable();
      });
    }
    return row;
  }

  static ReplicaRow awaitRow(GatewayHarness gw, long id, long timeoutMs, Predicate<ReplicaRow> done)
      throws InterruptedException {
    return Poll.value("replica " + id, java.time.Duration.ofMillis(timeoutMs), () -> replica(gw, id),
        row -> row == null || done.test(row));
  }

  static boolean eventually(long timeoutMs, java.util.function.BooleanSupplier condition) throws InterruptedException {
    return Poll.within(java.time.Duration.ofMillis(timeoutMs), condition);
  }

  /** Collects the progress events (messages with a {@code phase}) published on the gateway's event bus. */
  static List<JsonObject> events(GatewayHarness gw) {
    List<JsonObject> events = new CopyOnWriteArrayList<>();
    gw.app.vertx().eventBus().<JsonObject>consumer(Addresses.REPLICAS_PROVISIONING, m -> {
      if (m.body().containsKey("phase")) {
        events.add(m.body());
      }
    }).completion().await();
    return events;
  }

  static List<String> phases(List<JsonObject> events, long replicaId) {
    return events.stream().filter(e -> e.getLong("replica_id") == replicaId).map(e -> e.getString("phase"))
        .distinct().toList();
  }

  static SimulatorVerticle simulator(Vertx vertx, int port, String model) {
    SimulatorVerticle sim = new SimulatorVerticle(port, SimulatorSettings.defaults(List.of(model)), "127.0.0.1");
    vertx.deployVerticle(sim).await();
    return sim;
  }

  static JsonObject chat(String model) {
    return new JsonObject().put("model", model)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "Hello!")));
  }
}
