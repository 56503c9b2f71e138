package io.inferencegateway.hyperstack;

import io.inferencegateway.simulator.SimulatorVerticle;
import io.inferencegateway.store.ModelRow;
import io.inferencegateway.store.ReplicaRow;
import io.inferencegateway.support.FakeHyperstack;
import io.inferencegateway.support.GatewayHarness;
import io.inferencegateway.support.Http;
import io.inferencegateway.support.TestServices;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static io.inferencegateway.hyperstack.ProvisioningSupport.awaitOutcome;
import static io.inferencegateway.hyperstack.ProvisioningSupport.chat;
import static io.inferencegateway.hyperstack.ProvisioningSupport.deleteReplicaAndVm;
import static io.inferencegateway.hyperstack.ProvisioningSupport.eventually;
import static io.inferencegateway.hyperstack.ProvisioningSupport.pendingReplica;
import static io.inferencegateway.hyperstack.ProvisioningSupport.phases;
import static io.inferencegateway.hyperstack.ProvisioningSupport.requestCreate;
import static io.inferencegateway.hyperstack.ProvisioningSupport.simulator;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Replicas deployed on the fake Hyperstack by a real gateway (embedded database), the "VM" being a vLLM simulator on
 * 127.0.0.1: success and chat through the gateway, a VM in ERROR, a vLLM that never answers, a refused creation, the
 * wrong model, missing firewall rules, a lost create answer, deleting the VM, and the progress events.
 */
class ProvisioningTest {

  static final long HEALTH_TIMEOUT_MS = 3000;

  static Vertx vertx;
  static FakeHyperstack fake;
  static GatewayHarness gw;
  static GatewayHarness.Key key;
  static Http http;
  static List<JsonObject> events;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    fake = new FakeHyperstack(vertx);
    gw = GatewayHarness.embedded(c -> c.withHyperstack(ProvisioningSupport.hyperstack(fake, 20_000, HEALTH_TIMEOUT_MS)));
    events = ProvisioningSupport.events(gw);
    key = gw.key("provisioning");
    http = new Http(vertx);
  }

  @AfterAll
  static void stop() {
    http.close();
    gw.close();
    fake.close();
    vertx.close().await();
  }

  @Test
  void aReplicaCreatedWithCreateVmEndsSuccessAndServesChat() throws Exception {
    String model = "prov/llama";
    ModelRow m = gw.model(model);
    int port = TestServices.freePort();
    SimulatorVerticle sim = simulator(vertx, port, model);
    long id = pendingReplica(gw, m, "prov-ok", port, true);
    requestCreate(gw, id);

    ReplicaRow row = awaitOutcome(gw, id, 30_000);
    assertThat(row.vmStatus()).as(String.valueOf(row.errorMessage())).isEqualTo(ReplicaRow.SUCCESS);
    assertThat(row.endpoint()).isEqualTo("http://127.0.0.1:" + port);
    assertThat(row.errorMessage()).isNull();
    FakeHyperstack.FakeVm vm = fake.vmsNamed("prov-ok").get(0);
    assertThat(row.vmId()).isEqualTo(vm.id);

    Http.Response reply = http.post(gw.baseUrl + "/v1/chat/completions", key.plaintext(), chat(model));
    assertThat(reply.status()).as(reply.body().toString()).isEqualTo(200);
    assertThat(reply.json().getJsonArray("choices")).isNotEmpty();
    assertThat(sim.stats().byPath().getOrDefault("/v1/chat/completions", 0L)).isPositive();

    // one create call, with the VM details, the firewall rules and a cloud-config running the command
    List<FakeHyperstack.Call> creates = fake.creates().stream()
        .filter(c -> "prov-ok".equals(c.body().getString("name"))).toList();
    assertThat(creates).hasSize(1);
    JsonObject body = creates.get(0).body();
    assertThat(body.getString("environment_name")).isEqualTo(ProvisioningSupport.ENVIRONMENT);
    assertThat(body.getString("image_name")).isEqualTo(ProvisioningSupport.IMAGE);
    assertThat(body.getString("flavor_name")).isEqualTo(ProvisioningSupport.FLAVOR);
    assertThat(body.getString("key_name")).isEqualTo("test-key");
    assertThat(body.getInteger("count")).isEqualTo(1);
    assertThat(body.getBoolean("assign_floating_ip")).isTrue();
    JsonArray rules = body.getJsonArray("security_rules");
    assertThat(rules).hasSize(3);
    assertThat(rules.stream().map(o -> ((JsonObject) o).getString("remote_ip_prefix") + ":"
        + ((JsonObject) o).getInteger("port_range_min")))
        .containsExactly("198.51.100.0/24:9100", "0.0.0.0/0:" + port, "0.0.0.0/0:22");
    assertThat(body.getString("user_data")).startsWith("#cloud-config\n")
        .contains(ProvisioningSupport.runCommand(model, port));

    // progress, in order, for the console
    assertThat(eventually(5000, () -> phases(events, id).contains(ProvisioningVerticle.READY))).isTrue();
    assertThat(phases(events, id)).containsExactly(ProvisioningVerticle.CREATING_VM,
        ProvisioningVerticle.WAITING_FOR_IP, ProvisioningVerticle.WAITING_FOR_VLLM, ProvisioningVerticle.READY);
    List<JsonObject> mine = events.stream().filter(e -> e.getLong("replica_id") == id).toList();
    assertThat(mine).extracting(e -> e.getString("vm_status")).contains("CREATING", "BUILD", "ACTIVE");
    assertThat(mine).allSatisfy(e -> {
      assertThat(e.getLong("model_id")).isEqualTo(m.id());
      assertThat(e.getString("at")).isNotBlank();
      assertThat(e.getString("message")).isNotBlank();
    });
    JsonObject ready = mine.get(mine.size() - 1);
    assertThat(ready.getString("endpoint")).isEqualTo("http://127.0.0.1:" + port);
    assertThat(ready.getLong("vm_id")).isEqualTo(vm.id);
  }

  @Test
  void aVmThatGoesToErrorEndsFailedWithTheReason() throws Exception {
    fake.script("prov-error", FakeHyperstack.Script.GOES_TO_ERROR);
    ModelRow m = gw.model("prov/error");
    long id = pendingReplica(gw, m, "prov-error", TestServices.freePort(), true);
    requestCreate(gw, id);

    ReplicaRow row = awaitOutcome(gw, id, 30_000);
    long vmId = fake.vmsNamed("prov-error").get(0).id;
    assertThat(row.vmStatus()).isEqualTo(ReplicaRow.FAILED);
    assertThat(row.vmId()).isEqualTo(vmId);
    assertThat(row.endpoint()).isNull();
    assertThat(row.errorMessage()).startsWith("Hyperstack reports VM " + vmId + " ('prov-error') in ERROR state")
        .contains("delete_vm=true");
    assertThat(eventually(5000, () -> phases(events, id).contains(ProvisioningVerticle.FAILED))).isTrue();
    assertThat(events).anySatisfy(e -> {
      assertThat(e.getLong("replica_id")).isEqualTo(id);
      assertThat(e.getString("phase")).isEqualTo(ProvisioningVerticle.FAILED);
      assertThat(e.getString("error")).isEqualTo(row.errorMessage());
    });
    assertThat(gw.app.services().registry().replica(id)).as("nothing to route to").isNull();
  }

  @Test
  void aVllmThatNeverBecomesHealthyEndsFailedAfterTheDeadline() throws Exception {
    ModelRow m = gw.model("prov/silent");
    int port = TestServices.freePort(); // nothing listens there
    long id = pendingReplica(gw, m, "prov-silent", port, true);
    requestCreate(gw, id);

    ReplicaRow row = awaitOutcome(gw, id, 30_000);
    assertThat(row.vmStatus()).isEqualTo(ReplicaRow.FAILED);
    assertThat(eventually(5000, () -> phases(events, id).contains(ProvisioningVerticle.FAILED))).isTrue();
    Instant waiting = at(id, ProvisioningVerticle.WAITING_FOR_VLLM);
    Instant failed = at(id, ProvisioningVerticle.FAILED);
    assertThat(Duration.between(waiting, failed)).as("not before the deadline").isGreaterThan(Duration.ofMillis(2000));
    assertThat(row.errorMessage()).startsWith("vLLM did not become ready at http://127.0.0.1:" + port
        + " within 3 s of the VM becoming ACTIVE (last check: ");
    assertThat(row.endpoint()).isNull();
  }

  /** When the first event of that phase was published for the replica. */
  static Instant at(long replicaId, String phase) {
    return events.stream().filter(e -> e.getLong("replica_id") == replicaId && phase.equals(e.getString("phase")))
        .map(e -> Instant.parse(e.getString("at"))).findFirst().orElseThrow();
  }

  @Test
  void aRefusedCreationEndsFailedWithHyperstacksMessage() throws Exception {
    fake.script("prov-refused", FakeHyperstack.Script.REFUSED);
    ModelRow m = gw.model("prov/refused");
    long id = pendingReplica(gw, m, "prov-refused", TestServices.freePort(), true);
    requestCreate(gw, id);

    ReplicaRow row = awaitOutcome(gw, id, 30_000);
    assertThat(row.vmStatus()).isEqualTo(ReplicaRow.FAILED);
    assertThat(row.vmId()).isNull();
    assertThat(row.errorMessage()).isEqualTo("Hyperstack refused to create the VM: Quota exceeded: not enough"
        + " n3-RTX-A6000x1 available in CANADA-1");
    assertThat(fake.vmsNamed("prov-refused")).isEmpty();
  }

  @Test
  void aServerThatServesAnotherModelFailsWithoutWaitingForTheDeadline() throws Exception {
    ModelRow m = gw.model("prov/wanted");
    int port = TestServices.freePort();
    SimulatorVerticle sim = simulator(vertx, port, "prov/other");
    try {
      long id = pendingReplica(gw, m, "prov-wrong-model", port, true);
      requestCreate(gw, id);
      ReplicaRow row = awaitOutcome(gw, id, 30_000);
      assertThat(row.vmStatus()).isEqualTo(ReplicaRow.FAILED);
      assertThat(row.errorMessage()).startsWith("vLLM at http://127.0.0.1:" + port + " serves [prov/other], not"
          + " prov/wanted (check --model or --served-model-name in the run command)");
    } finally {
      vertx.undeploy(sim.deploymentID()).await();
    }
  }

  @Test
  void firewallRulesTheVmCameUpWithoutAreAddedThroughSgRules() throws Exception {
    fake.script("prov-rules", FakeHyperstack.Script.DROPS_RULES);
    String model = "prov/rules";
    ModelRow m = gw.model(model);
    int port = TestServices.freePort();
    simulator(vertx, port, model);
    long id = pendingReplica(gw, m, "prov-rules", port, true);
    requestCreate(gw, id);

    ReplicaRow row = awaitOutcome(gw, id, 30_000);
    assertThat(row.vmStatus()).as(String.valueOf(row.errorMessage())).isEqualTo(ReplicaRow.SUCCESS);
    FakeHyperstack.FakeVm vm = fake.vm(row.vmId());
    List<FakeHyperstack.Call> added = fake.calls("POST", "/v1/core/virtual-machines/" + vm.id + "/sg-rules");
    assertThat(added).extracting(c -> c.body().getInteger("port_range_min")).containsExactly(9100, port, 22);
    assertThat(vm.rules).hasSize(3);
  }

  @Test
  void aLostCreateAnswerDoesNotCreateASecondVm() throws Exception {
    String model = "prov/lost";
    ModelRow m = gw.model(model);
    int port = TestServices.freePort();
    simulator(vertx, port, model);
    fake.createResponseDelayMs = 2500; // longer than the 1.5 s API timeout: the VM is made, the answer is lost
    long id;
    try {
      id = pendingReplica(gw, m, "prov-lost", port, true);
      requestCreate(gw, id);
      assertThat(eventually(10_000, () -> !fake.vmsNamed("prov-lost").isEmpty())).isTrue();
      Thread.sleep(2000);
    } finally {
      fake.createResponseDelayMs = 0;
    }
    ReplicaRow row = awaitOutcome(gw, id, 30_000);
    assertThat(row.vmStatus()).as(String.valueOf(row.errorMessage())).isEqualTo(ReplicaRow.SUCCESS);
    assertThat(fake.vmsNamed("prov-lost")).hasSize(1);
    assertThat(row.vmId()).isEqualTo(fake.vmsNamed("prov-lost").get(0).id);
    assertThat(fake.calls("GET", "/v1/core/virtual-machines")).anySatisfy(c ->
        assertThat(c.query()).contains("search=prov-lost"));
  }

  @Test
  void withoutAFloatingIpTheFixedIpIsUsed() throws Exception {
    String model = "prov/private";
    ModelRow m = gw.model(model);
    int port = TestServices.freePort();
    simulator(vertx, port, model);
    fake.fixedIpIsVmHost = true;
    try {
      long id = pendingReplica(gw, m, "prov-private", port, false);
      requestCreate(gw, id);
      ReplicaRow row = awaitOutcome(gw, id, 30_000);
      assertThat(row.vmStatus()).as(String.valueOf(row.errorMessage())).isEqualTo(ReplicaRow.SUCCESS);
      assertThat(row.endpoint()).isEqualTo("http://127.0.0.1:" + port);
      assertThat(fake.vm(row.vmId()).floatingIp).isNull();
    } finally {
      fake.fixedIpIsVmHost = false;
    }
  }

  @Test
  void deleteVmDeletesTheVm() throws Exception {
    String model = "prov/delete";
    ModelRow m = gw.model(model);
    int port = TestServices.freePort();
    simulator(vertx, port, model);
    long id = pendingReplica(gw, m, "prov-delete", port, true);
    requestCreate(gw, id);
    ReplicaRow row = awaitOutcome(gw, id, 30_000);
    assertThat(row.vmStatus()).isEqualTo(ReplicaRow.SUCCESS);
    long vmId = row.vmId();

    deleteReplicaAndVm(gw, id, vmId);
    assertThat(eventually(10_000, () -> fake.vm(vmId) == null)).as("the VM is gone").isTrue();
    assertThat(fake.calls("DELETE", "/v1/core/virtual-machines/" + vmId)).hasSize(1);
    assertThat(eventually(5000, () -> phases(events, id).contains(ProvisioningVerticle.VM_DELETED))).isTrue();
    assertThat(phases(events, id)).endsWith(ProvisioningVerticle.DELETING_VM, ProvisioningVerticle.VM_DELETED);
  }

  @Test
  void deletingAReplicaWhileItsVmIsBeingCreatedDeletesTheVmOnceKnown() throws Exception {
    ModelRow m = gw.model("prov/early-delete");
    fake.createResponseDelayMs = 700;
    try {
      long id = pendingReplica(gw, m, "prov-early-delete", TestServices.freePort(), true);
      requestCreate(gw, id);
      assertThat(eventually(10_000, () -> !fake.vmsNamed("prov-early-delete").isEmpty())).isTrue();
      deleteReplicaAndVm(gw, id, null); // no VM id known yet
      assertThat(eventually(10_000, () -> fake.vmsNamed("prov-early-delete").isEmpty())).isTrue();
      assertThat(phases(events, id)).contains(ProvisioningVerticle.VM_DELETED);
    } finally {
      fake.createResponseDelayMs = 0;
    }
  }

  @Test
  void aVmCreatedForAReplicaDeletedMeanwhileIsDeleted() throws Exception {
    ModelRow m = gw.model("prov/orphan");
    fake.createResponseDelayMs = 700;
    try {
      long id = pendingReplica(gw, m, "prov-orphan", TestServices.freePort(), true);
      requestCreate(gw, id);
      assertThat(eventually(10_000, () -> !fake.vmsNamed("prov-orphan").isEmpty())).isTrue();
      gw.app.services().models().deleteReplica(id).await(); // deleted without delete_vm, before the id was stored
      assertThat(eventually(10_000, () -> fake.vmsNamed("prov-orphan").isEmpty()))
          .as("a VM nobody can find again is not left billing").isTrue();
    } finally {
      fake.createResponseDelayMs = 0;
    }
  }
}
