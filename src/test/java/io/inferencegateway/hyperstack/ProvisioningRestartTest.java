package io.inferencegateway.hyperstack;

import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.store.ModelRow;
import io.inferencegateway.store.ReplicaRow;
import io.inferencegateway.store.SqlValues;
import io.inferencegateway.support.FakeHyperstack;
import io.inferencegateway.support.GatewayHarness;
import io.inferencegateway.support.Http;
import io.inferencegateway.support.TestServices;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static io.inferencegateway.hyperstack.ProvisioningSupport.awaitOutcome;
import static io.inferencegateway.hyperstack.ProvisioningSupport.awaitRow;
import static io.inferencegateway.hyperstack.ProvisioningSupport.chat;
import static io.inferencegateway.hyperstack.ProvisioningSupport.pendingReplica;
import static io.inferencegateway.hyperstack.ProvisioningSupport.requestCreate;
import static io.inferencegateway.hyperstack.ProvisioningSupport.simulator;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Provisioning across gateway restarts, on one embedded database: a restart mid-provisioning finishes the job
 * without a second VM; a VM whose id was never stored is found by name; deadlines count from the stored times; a
 * gateway without a Hyperstack key stays idle and a later one with a key picks the replica up.
 */
class ProvisioningRestartTest {

  Vertx vertx;
  FakeHyperstack fake;
  GatewayConfig config;
  final List<GatewayHarness> gateways = new ArrayList<>();

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    fake = new FakeHyperstack(vertx);
    config = GatewayHarness.baseConfig(null, null)
        .withHyperstack(ProvisioningSupport.hyperstack(fake, 30_000, 15_000));
  }

  @AfterEach
  void stop() {
    for (GatewayHarness gw : gateways) {
      try {
        gw.close();
      } catch (RuntimeException e) {
        // already closed
      }
    }
    fake.close();
    vertx.close().await();
  }

  GatewayHarness gateway(GatewayConfig c) {
    GatewayHarness gw = GatewayHarness.start(c, null, null);
    gateways.add(gw);
    return gw;
  }

  @Test
  void aRestartDuringProvisioningFinishesTheJobWithoutASecondVm() throws Exception {
    fake.creatingMs = 2500;
    fake.buildMs = 1000;
    String model = "restart/llama";
    int port = TestServices.freePort();
    simulator(vertx, port, model);
    GatewayHarness first = gateway(config);
    ModelRow m = first.model(model);
    long id = pendingReplica(first, m, "restart-vm", port, true);
    requestCreate(first, id);
    ReplicaRow created = awaitRow(first, id, 15_000, r -> r.vmId() != null);
    assertThat(created.vmId()).as("the VM id is stored as soon as the VM exists").isNotNull();
    first.close(); // the gateway goes away while the VM is still building
    assertThat(fake.vm(created.vmId()).status).isIn("CREATING", "BUILD");

    GatewayHarness second = gateway(config);
    ReplicaRow row = awaitOutcome(second, id, 30_000);
    assertThat(row.vmStatus()).as(String.valueOf(row.errorMessage())).isEqualTo(ReplicaRow.SUCCESS);
    assertThat(row.vmId()).isEqualTo(created.vmId());
    assertThat(row.endpoint()).isEqualTo("http://127.0.0.1:" + port);
    assertThat(fake.creates()).as("one VM, ever").hasSize(1);
    assertThat(fake.vmsNamed("restart-vm")).hasSize(1);

    Http http = new Http(vertx);
    try {
      Http.Response reply = http.post(second.baseUrl + "/v1/chat/completions", second.key("u").plaintext(), chat(model));
      assertThat(reply.status()).as(reply.body().toString()).isEqualTo(200);
    } finally {
      http.close();
    }
  }

  @Test
  void aVmCreatedJustBeforeACrashIsFoundByNameInsteadOfCreatedAgain() throws Exception {
    String model = "restart/found";
    int port = TestServices.freePort();
    simulator(vertx, port, model);
    GatewayHarness first = gateway(config);
    long id = pendingReplica(first, first.model(model), "restart-found", port, true);
    // The previous gateway's create call went through, then it died before storing the VM id.
    FakeHyperstack.FakeVm vm = fake.existingVm("restart-found", new JsonObject()
        .put("environment_name", ProvisioningSupport.ENVIRONMENT).put("image_name", ProvisioningSupport.IMAGE)
        .put("flavor_name", ProvisioningSupport.FLAVOR).put("key_name", "test-key").put("assign_floating_ip", true)
        .put("security_rules", new JsonArray()));
    fake.existingVm("restart-found-2", new JsonObject().put("assign_floating_ip", true)); // a name that only starts alike
    first.close();

    GatewayHarness second = gateway(config);
    ReplicaRow row = awaitOutcome(second, id, 30_000);
    assertThat(row.vmStatus()).as(String.valueOf(row.errorMessage())).isEqualTo(ReplicaRow.SUCCESS);
    assertThat(row.vmId()).isEqualTo(vm.id);
    assertThat(fake.creates()).as("no second VM").isEmpty();
    assertThat(fake.calls("POST", "/v1/core/virtual-machines/" + vm.id + "/sg-rules"))
        .as("the rules the found VM lacks are added").hasSize(3);
  }

  @Test
  void deadlinesCountFromTheStoredTimesNotFromTheRestart() throws Exception {
    fake.script("restart-late", FakeHyperstack.Script.NO_FLOATING_IP);
    GatewayHarness first = gateway(config);
    long id = pendingReplica(first, first.model("restart/late"), "restart-late", TestServices.freePort(), true);
    FakeHyperstack.FakeVm vm = fake.existingVm("restart-late", new JsonObject().put("assign_floating_ip", true));
    assertThat(ProvisioningSupport.eventually(10_000, () -> "ACTIVE".equals(vm.status))).isTrue();
    first.app.services().models().updateProvisioning(id, ReplicaRow.PENDING, vm.id, null, null).await();
    first.app.services().database().pool()
        .preparedQuery("UPDATE replicas SET created_at = ? WHERE id = ?")
        .execute(Tuple.of(SqlValues.toDb(Instant.now().minusSeconds(3600)), id)).await();
    first.close();

    long restartedAt = System.currentTimeMillis();
    GatewayHarness second = gateway(config);
    ReplicaRow row = awaitOutcome(second, id, 20_000);
    assertThat(row.vmStatus()).isEqualTo(ReplicaRow.FAILED);
    assertThat(System.currentTimeMillis() - restartedAt).as("well before a fresh 30 s deadline").isLessThan(20_000);
    assertThat(row.errorMessage()).startsWith("VM " + vm.id + " is ACTIVE but got no floating IP within 30 s");
  }

  @Test
  void aGatewayWithoutAKeyStaysIdleAndOneWithAKeyPicksTheReplicaUp() throws Exception {
    String model = "restart/nokey";
    int port = TestServices.freePort();
    simulator(vertx, port, model);
    GatewayConfig noKey = config.withHyperstack(config.hyperstack().withApiKey(null));
    GatewayHarness first = gateway(noKey);
    ModelRow m = first.model(model);
    long waiting = pendingReplica(first, m, "nokey-waiting", port, true);
    long refused = pendingReplica(first, m, "nokey-refused", port, true);
    requestCreate(first, refused);
    ReplicaRow refusedRow = awaitOutcome(first, refused, 10_000);
    assertThat(refusedRow.vmStatus()).isEqualTo(ReplicaRow.FAILED);
    assertThat(refusedRow.errorMessage()).isEqualTo(ProvisioningVerticle.NO_KEY);
    Thread.sleep(500);
    assertThat(ProvisioningSupport.replica(first, waiting).vmStatus()).isEqualTo(ReplicaRow.PENDING);
    assertThat(fake.calls()).as("no call without a key").isEmpty();
    first.close();

    GatewayHarness second = gateway(config);
    ReplicaRow row = awaitOutcome(second, waiting, 30_000);
    assertThat(row.vmStatus()).as(String.valueOf(row.errorMessage())).isEqualTo(ReplicaRow.SUCCESS);
    assertThat(fake.creates()).hasSize(1);
  }
}
