package io.inferencegateway.hyperstack;

import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.store.ModelRow;
import io.inferencegateway.store.ReplicaRow;
import io.inferencegateway.support.FakeHyperstack;
import io.inferencegateway.support.GatewayHarness;
import io.inferencegateway.support.Http;
import io.inferencegateway.support.TestServices;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static io.inferencegateway.hyperstack.ProvisioningSupport.awaitOutcome;
import static io.inferencegateway.hyperstack.ProvisioningSupport.awaitRow;
import static io.inferencegateway.hyperstack.ProvisioningSupport.chat;
import static io.inferencegateway.hyperstack.ProvisioningSupport.deleteReplicaAndVm;
import static io.inferencegateway.hyperstack.ProvisioningSupport.eventually;
import static io.inferencegateway.hyperstack.ProvisioningSupport.pendingReplica;
import static io.inferencegateway.hyperstack.ProvisioningSupport.requestCreate;
import static io.inferencegateway.hyperstack.ProvisioningSupport.simulator;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The provisioning life cycle on MariaDB: created with a restart in the middle, serving chat, failing on an ERROR VM,
 * and deleted with its VM.
 */
class ProvisioningMariaDbTest {

  Vertx vertx;
  Vertx helper;
  FakeHyperstack fake;
  String databaseUrl;
  GatewayHarness gw;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    helper = Vertx.vertx();
    fake = new FakeHyperstack(vertx);
    databaseUrl = TestServices.freshMysqlDatabase(helper);
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close(); // drops the database and closes the helper
    } else {
      helper.close().await();
    }
    fake.close();
    vertx.close().await();
  }

  @Test
  void provisionsAcrossARestartServesChatFailsOnErrorAndDeletesTheVm() throws Exception {
    GatewayConfig config = GatewayHarness.baseConfig(databaseUrl, null)
        .withHyperstack(ProvisioningSupport.hyperstack(fake, 30_000, 15_000));
    fake.creatingMs = 1000;
    String model = "maria/llama";
    int port = TestServices.freePort();
    simulator(vertx, port, model);

    GatewayHarness first = GatewayHarness.start(config, null, null); // closing it keeps the database
    ModelRow m = first.model(model);
    long id = pendingReplica(first, m, "maria-vm", port, true);
    fake.script("maria-error", FakeHyperstack.Script.GOES_TO_ERROR);
    long broken = pendingReplica(first, m, "maria-error", TestServices.freePort(), true);
    requestCreate(first, id);
    requestCreate(first, broken);
    ReplicaRow created = awaitRow(first, id, 15_000, r -> r.vmId() != null);
    assertThat(created.vmId()).isNotNull();
    first.close();

    gw = GatewayHarness.start(config, databaseUrl, helper);
    ReplicaRow row = awaitOutcome(gw, id, 30_000);
    assertThat(row.vmStatus()).as(String.valueOf(row.errorMessage())).isEqualTo(ReplicaRow.SUCCESS);
    assertThat(row.vmId()).isEqualTo(created.vmId());
    assertThat(row.endpoint()).isEqualTo("http://127.0.0.1:" + port);
    assertThat(fake.vmsNamed("maria-vm")).hasSize(1);

    ReplicaRow failed = awaitOutcome(gw, broken, 30_000);
    assertThat(failed.vmStatus()).isEqualTo(ReplicaRow.FAILED);
    assertThat(failed.errorMessage()).contains("in ERROR state");

    Http http = new Http(vertx);
    try {
      Http.Response reply = http.post(gw.baseUrl + "/v1/chat/completions", gw.key("maria").plaintext(), chat(model));
      assertThat(reply.status()).as(reply.body().toString()).isEqualTo(200);
    } finally {
      http.close();
    }

    deleteReplicaAndVm(gw, id, row.vmId());
    assertThat(eventually(10_000, () -> fake.vm(row.vmId()) == null)).isTrue();
    assertThat(fake.calls("DELETE", "/v1/core/virtual-machines/")).hasSize(1);
  }
}
