package io.inferencegateway.hyperstack;

import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.simulator.SimulatorSettings;
import io.inferencegateway.simulator.SimulatorVerticle;
import io.inferencegateway.store.ReplicaRow;
import io.inferencegateway.support.FakeHyperstack;
import io.inferencegateway.support.GatewayHarness;
import io.inferencegateway.support.Http;
import io.inferencegateway.support.Poll;
import io.inferencegateway.support.TestServices;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.inferencegateway.hyperstack.ProvisioningSupport.chat;
import static io.inferencegateway.hyperstack.ProvisioningSupport.eventually;
import static io.inferencegateway.hyperstack.ProvisioningSupport.phases;
import static io.inferencegateway.hyperstack.ProvisioningSupport.simulator;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The acceptance scenarios end to end, through the real admin API: {@code POST /api/v1/models/{id}/replicas}
 * with {@code create_vm} on the fake Hyperstack (the "VM" being a vLLM simulator), then chat through the gateway; a VM
 * in ERROR and a vLLM that never answers end FAILED with the reason; {@code DELETE /api/v1/replicas/{id}?delete_vm=true}
 * deletes the VM; without a Hyperstack key {@code create_vm} is refused with 400.
 */
class ProvisioningAdminApiTest {

  static final String ADMIN = "sk-admin-test";
  static final String GATEWAY_CIDR = "203.0.113.7/32";

  static Vertx vertx;
  static FakeHyperstack fake;
  static GatewayHarness gw;
  static Http http;
  static List<JsonObject> events;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    fake = new FakeHyperstack(vertx);
    gw = GatewayHarness.embedded(c -> c.withHyperstack(new GatewayConfig.Hyperstack(FakeHyperstack.API_KEY,
        fake.baseUrl(), GATEWAY_CIDR, 100, 20_000, 3000, 1500)));
    events = ProvisioningSupport.events(gw);
    http = new Http(vertx);
  }

  @AfterAll
  static void stop() {
    http.close();
    gw.close();
    fake.close();
    vertx.close().await();
  }

  static long createModel(GatewayHarness g, String name) {
    Http.Response r = http.post(g.baseUrl + "/api/v1/models", ADMIN, new JsonObject().put("name", name));
    assertThat(r.status()).as(r.body().toString()).isEqualTo(201);
    return r.json().getLong("id");
  }

  static JsonObject vmRequest(String vmName, String model, int port) {
    return new JsonObject().put("create_vm", true).put("vm_creation_details", new JsonObject()
        .put("name", vmName)
        .put("environment_name", ProvisioningSupport.ENVIRONMENT)
        .put("image_name", ProvisioningSupport.IMAGE)
        .put("flavor_name", ProvisioningSupport.FLAVOR)
        .put("key_name", "test-key")
        .put("assign_floating_ip", true)
        .put("port", port)
        .put("run_command", ProvisioningSupport.runCommand(model, port))
        .put("security_rules", new JsonArray().add(new JsonObject().put("direction", "ingress")
            .put("protocol", "tcp").put("ethertype", "IPv4").put("remote_ip_prefix", "198.51.100.0/24")
            .put("port_range_min", 9100).put("port_range_max", 9100))));
  }

  static Http.Response createReplica(GatewayHarness g, long modelId, JsonObject body) {
    return http.post(g.baseUrl + "/api/v1/models/" + modelId + "/replicas", ADMIN, body);
  }

  /** The replica as the admin API lists it. */
  static JsonObject listed(long modelId, long replicaId) {
    Http.Response r = http.get(gw.baseUrl + "/api/v1/models/" + modelId + "/replicas", ADMIN);
    assertThat(r.status()).as(r.body().toString()).isEqualTo(200);
    for (Object o : r.body().toJsonArray()) {
      JsonObject replica = (JsonObject) o;
      if (replica.getLong("id") == replicaId) {
        return replica;
      }
    }
    return null;
  }

  static JsonObject awaitListedOutcome(long modelId, long replicaId) throws InterruptedException {
    return Poll.value("replica " + replicaId + " leaves PENDING", java.time.Duration.ofSeconds(30),
        () -> listed(modelId, replicaId), r -> r == null || !ReplicaRow.PENDING.equals(r.getString("vm_status")));
  }

  @Test
  void aReplicaCreatedWithCreateVmEndsSuccessServesChatAndDeleteVmDeletesTheVm() throws Exception {
    String model = "e2e/llama";
    long modelId = createModel(gw, model);
    int port = TestServices.freePort();
    String replicaKey = "rk-e2e-replica-key-0123456789";
    SimulatorVerticle vm = new SimulatorVerticle(port, SimulatorSettings.defaults(List.of(model)), "127.0.0.1",
        replicaKey);
    vertx.deployVerticle(vm).await();

    Http.Response created = createReplica(gw, modelId, vmRequest("e2e-ok", model, port).put("api_key", replicaKey));
    assertThat(created.status()).as(created.body().toString()).isEqualTo(201);
    long replicaId = created.json().getLong("replica_id");
    JsonObject pending = listed(modelId, replicaId);
    assertThat(pending.getString("vm_status")).isIn(ReplicaRow.PENDING, ReplicaRow.SUCCESS);

    JsonObject replica = awaitListedOutcome(modelId, replicaId);
    assertThat(replica.getString("vm_status")).as(replica.encode()).isEqualTo(ReplicaRow.SUCCESS);
    assertThat(replica.getString("endpoint")).isEqualTo("http://127.0.0.1:" + port);
    long vmId = replica.getLong("vm_id");
    assertThat(fake.vm(vmId)).isNotNull();

    Http.Response reply = http.post(gw.baseUrl + "/v1/chat/completions", gw.key("e2e").plaintext(), chat(model));
    assertThat(reply.status()).as("the gateway sends the replica's key: " + reply.body()).isEqualTo(200);
    assertThat(replica.encode()).as("the key is never shown").doesNotContain(replicaKey);
    assertThat(replica.getBoolean("api_key_set")).isTrue();

    JsonObject sent = fake.creates().stream().filter(c -> "e2e-ok".equals(c.body().getString("name")))
        .findFirst().orElseThrow().body();
    assertThat(sent.getJsonArray("security_rules").stream().map(o -> ((JsonObject) o).getString("remote_ip_prefix")
        + ":" + ((JsonObject) o).getInteger("port_range_min")))
        .as("the client's rule and the vLLM port open to the gateway only: no SSH from anywhere added")
        .containsExactly("198.51.100.0/24:9100", GATEWAY_CIDR + ":" + port);
    assertThat(replica.getJsonArray("security_rules")).as("recorded as sent").hasSize(2);
    assertThat(sent.getString("user_data"))
        .contains(ProvisioningSupport.runCommand(model, port).replace("docker run", "docker run --env VLLM_API_KEY"))
        .contains("VLLM_API_KEY=" + replicaKey);
    assertThat(phases(events, replicaId)).containsExactly(ProvisioningVerticle.CREATING_VM,
        ProvisioningVerticle.WAITING_FOR_IP, ProvisioningVerticle.WAITING_FOR_VLLM, ProvisioningVerticle.READY);

    Http.Response deleted = http.send(HttpMethod.DELETE, gw.baseUrl + "/api/v1/replicas/" + replicaId
        + "?delete_vm=true", ADMIN, null, null);
    assertThat(deleted.status()).as(deleted.body().toString()).isEqualTo(204);
    assertThat(eventually(10_000, () -> fake.vm(vmId) == null)).as("the VM is deleted").isTrue();
    assertThat(fake.calls("DELETE", "/v1/core/virtual-machines/" + vmId)).hasSize(1);
    assertThat(listed(modelId, replicaId)).isNull();
  }

  @Test
  void aVmThatGoesToErrorEndsFailedWithTheReason() throws Exception {
    fake.script("e2e-error", FakeHyperstack.Script.GOES_TO_ERROR);
    long modelId = createModel(gw, "e2e/error");
    Http.Response created = createReplica(gw, modelId, vmRequest("e2e-error", "e2e/error", TestServices.freePort()));
    assertThat(created.status()).as(created.body().toString()).isEqualTo(201);
    long replicaId = created.json().getLong("replica_id");

    JsonObject replica = awaitListedOutcome(modelId, replicaId);
    assertThat(replica.getString("vm_status")).isEqualTo(ReplicaRow.FAILED);
    assertThat(replica.getString("error_message")).contains("in ERROR state");

    long vmId = replica.getLong("vm_id");
    assertThat(fake.vm(vmId)).as("a failed replica keeps its VM until deleted with delete_vm").isNotNull();
    Http.Response deleted = http.send(HttpMethod.DELETE, gw.baseUrl + "/api/v1/replicas/" + replicaId
        + "?delete_vm=true", ADMIN, null, null);
    assertThat(deleted.status()).isEqualTo(204);
    assertThat(eventually(10_000, () -> fake.vm(vmId) == null)).isTrue();
  }

  @Test
  void deleteVmWhileTheVmIsStillBeingCreatedDeletesItOnceHyperstackReturnsItsId() throws Exception {
    long modelId = createModel(gw, "e2e/early");
    fake.createResponseDelayMs = 800;
    try {
      Http.Response created = createReplica(gw, modelId, vmRequest("e2e-early", "e2e/early", TestServices.freePort()));
      assertThat(created.status()).isEqualTo(201);
      long replicaId = created.json().getLong("replica_id");
      assertThat(eventually(10_000, () -> !fake.vmsNamed("e2e-early").isEmpty())).isTrue();
      Http.Response deleted = http.send(HttpMethod.DELETE, gw.baseUrl + "/api/v1/replicas/" + replicaId
          + "?delete_vm=true", ADMIN, null, null);
      assertThat(deleted.status()).isEqualTo(204);
      assertThat(eventually(10_000, () -> fake.vmsNamed("e2e-early").isEmpty())).as("no VM left billing").isTrue();
    } finally {
      fake.createResponseDelayMs = 0;
    }
  }

  @Test
  void aVllmThatNeverBecomesHealthyEndsFailedWithTheReason() throws Exception {
    long modelId = createModel(gw, "e2e/silent");
    int port = TestServices.freePort();
    Http.Response created = createReplica(gw, modelId, vmRequest("e2e-silent", "e2e/silent", port));
    assertThat(created.status()).as(created.body().toString()).isEqualTo(201);
    long replicaId = created.json().getLong("replica_id");

    JsonObject replica = awaitListedOutcome(modelId, replicaId);
    assertThat(replica.getString("vm_status")).isEqualTo(ReplicaRow.FAILED);
    assertThat(replica.getString("error_message"))
        .startsWith("vLLM did not become ready at http://127.0.0.1:" + port + " within 3 s");
  }

  @Test
  void withoutAHyperstackKeyCreateVmIsRefusedWith400() {
    try (GatewayHarness noKey = GatewayHarness.embedded(c -> c)) {
      long modelId = createModel(noKey, "e2e/nokey");
      Http.Response r = createReplica(noKey, modelId, vmRequest("e2e-nokey", "e2e/nokey", 8000));
      assertThat(r.status()).as(r.body().toString()).isEqualTo(400);
      assertThat(r.body().toString()).contains("HYPERSTACK_API_KEY");
      assertThat(noKey.app.services().models().replicas().await()).isEmpty();
    }
    assertThat(fake.calls()).noneMatch(c -> c.body() != null && "e2e-nokey".equals(c.body().getString("name")));
  }

  @Test
  void createVmIsRefusedWhileReplicasWouldBeOpenToEveryoneUnlessThatIsIntended() {
    GatewayConfig.Hyperstack open = new GatewayConfig.Hyperstack(FakeHyperstack.API_KEY, fake.baseUrl(), "0.0.0.0/0",
        100, 20_000, 3000, 1500);
    try (GatewayHarness g = GatewayHarness.embedded(c -> c.withHyperstack(open))) {
      long modelId = createModel(g, "e2e/open");
      Http.Response r = createReplica(g, modelId, vmRequest("e2e-open", "e2e/open", 8000));
      assertThat(r.status()).as(r.body().toString()).isEqualTo(400);
      assertThat(r.json().getString("error")).contains("hyperstack.gatewayCidr", "hyperstack.allowOpenReplicas");
      assertThat(g.app.services().models().replicas().await()).isEmpty();
    }
    try (GatewayHarness g = GatewayHarness.embedded(c -> c.withHyperstack(open.withAccess("0.0.0.0/0", true,
        "198.51.100.9/32")))) {
      long modelId = createModel(g, "e2e/open-ok");
      Http.Response r = createReplica(g, modelId, vmRequest("e2e-open-ok", "e2e/open-ok", 8000));
      assertThat(r.status()).as(r.body().toString()).isEqualTo(201);
      long replicaId = r.json().getLong("replica_id");
      assertThat(g.app.services().models().securityRules(replicaId).await().stream()
          .map(rule -> rule.remoteIpPrefix() + ":" + rule.portRangeMin()))
          .as("SSH only from hyperstack.sshCidr")
          .containsExactly("198.51.100.0/24:9100", "0.0.0.0/0:8000", "198.51.100.9/32:22");
      assertThat(g.app.services().models().replicaById(replicaId).await().orElseThrow().apiKey())
          .as("a key generated for the VM").startsWith("rk-").hasSize(46);
      http.send(HttpMethod.DELETE, g.baseUrl + "/api/v1/replicas/" + replicaId, ADMIN, null, null);
    }
  }

  @Test
  void aRunCommandIsNeverShownWithItsSecretsAndItsOwnKeyIsTheReplicasKey() throws Exception {
    long modelId = createModel(gw, "e2e/secrets");
    String run = "docker run -d --gpus all -e HF_TOKEN=hf_SECRETtoken -p 8000:8000 vllm/vllm-openai:latest"
        + " --model e2e/secrets --api-key rk-SECRET-from-command";
    JsonObject body = vmRequest("e2e-secrets", "e2e/secrets", TestServices.freePort());
    body.getJsonObject("vm_creation_details").put("run_command", run);
    Http.Response created = createReplica(gw, modelId, body);
    assertThat(created.status()).as(created.body().toString()).isEqualTo(201);
    long replicaId = created.json().getLong("replica_id");

    JsonObject listed = listed(modelId, replicaId);
    assertThat(listed.getString("run_command")).doesNotContain("SECRET")
        .contains("HF_TOKEN=***", "--api-key ***", "--model e2e/secrets");
    Http.Response table = http.get(gw.baseUrl + "/api/v1/tables/replicas?limit=1000", ADMIN);
    assertThat(table.body().toString()).contains("HF_TOKEN=***").doesNotContain("SECRET");
    assertThat(gw.app.services().models().replicaById(replicaId).await().orElseThrow().apiKey())
        .isEqualTo("rk-SECRET-from-command");
    assertThat(eventually(10_000, () -> fake.creates().stream()
        .anyMatch(c -> "e2e-secrets".equals(c.body().getString("name"))))).isTrue();
    String userData = fake.creates().stream().filter(c -> "e2e-secrets".equals(c.body().getString("name")))
        .findFirst().orElseThrow().body().getString("user_data");
    assertThat(userData).as("the VM gets the command as written: it sets its own key").contains(run)
        .doesNotContain(CloudInit.KEY_FILE);
    http.send(HttpMethod.DELETE, gw.baseUrl + "/api/v1/replicas/" + replicaId + "?delete_vm=true", ADMIN, null, null);
  }
}
