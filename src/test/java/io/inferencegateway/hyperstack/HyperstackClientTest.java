package io.inferencegateway.hyperstack;

import io.inferencegateway.support.Poll;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.support.FakeHyperstack;
import io.inferencegateway.support.TestServices;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link HyperstackClient} against the fake Hyperstack API: every call, and how each kind of failure surfaces. */
class HyperstackClientTest {

  static Vertx vertx;
  static FakeHyperstack fake;
  static HyperstackClient client;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    fake = new FakeHyperstack(vertx);
    fake.creatingMs = 100;
    fake.buildMs = 100;
    fake.floatingIpDelayMs = 200;
    client = new HyperstackClient(vertx, config(FakeHyperstack.API_KEY, fake.baseUrl()));
  }

  @AfterAll
  static void stop() {
    client.close();
    fake.close();
    vertx.close().await();
  }

  static GatewayConfig.Hyperstack config(String key, String baseUrl) {
    return new GatewayConfig.Hyperstack(key, baseUrl, "0.0.0.0/0", 100, 60_000, 60_000, 2_000);
  }

  /** Runs the call on a Vert.x context (as the verticle does) and waits for it. */
  static <T> T await(Supplier<Future<T>> call) {
    io.vertx.core.Promise<T> p = io.vertx.core.Promise.promise();
    vertx.getOrCreateContext().runOnContext(v -> call.get().onComplete(p));
    return p.future().await();
  }

  static VmSpec spec(String name) {
    return new VmSpec(name, "default-CANADA-1", "Ubuntu Server 22.04 LTS R535 CUDA 12.2 with Docker",
        "n3-RTX-A6000x1", "my-key", true,
        List.of(SecurityRule.ingressTcp("203.0.113.7/32", 8000), SecurityRule.ingressTcp("0.0.0.0/0", 22)),
        CloudInit.render("docker run --rm vllm/vllm-openai --model m", "test"));
  }

  @Test
  void createsReadsListsAddsRulesAndDeletesAVm() throws Exception {
    Vm created = await(() -> client.createVm(spec("client-lifecycle")));
    assertThat(created.status()).isEqualTo(Vm.CREATING);
    assertThat(created.floatingIp()).isNull();
    assertThat(created.name()).isEqualTo("client-lifecycle");

    FakeHyperstack.Call call = fake.creates().get(fake.creates().size() - 1);
    JsonObject body = call.body();
    assertThat(body.getInteger("count")).isEqualTo(1);
    assertThat(body.getString("environment_name")).isEqualTo("default-CANADA-1");
    assertThat(body.getString("flavor_name")).isEqualTo("n3-RTX-A6000x1");
    assertThat(body.getString("key_name")).isEqualTo("my-key");
    assertThat(body.getBoolean("assign_floating_ip")).isTrue();
    assertThat(body.getJsonArray("security_rules")).hasSize(2);
    assertThat(body.getJsonArray("security_rules").getJsonObject(0).getMap())
        .containsEntry("remote_ip_prefix", "203.0.113.7/32").containsEntry("port_range_min", 8000);
    assertThat(body.getString("user_data")).startsWith("#cloud-config\n").contains("vllm/vllm-openai --model m");

    Vm vm = Poll.value("the VM gets its floating IP", java.time.Duration.ofSeconds(10),
        () -> await(() -> client.getVm(created.id())), v -> v.floatingIp() != null);
    assertThat(vm.status()).isEqualTo(Vm.ACTIVE);
    assertThat(vm.floatingIp()).isEqualTo("127.0.0.1");
    assertThat(vm.fixedIp()).startsWith("10.0.0.");
    assertThat(vm.securityRules()).hasSize(2);

    await(() -> client.addSecurityRule(created.id(), SecurityRule.ingressTcp("198.51.100.0/24", 9000)));
    Vm withRule = await(() -> client.getVm(created.id()));
    assertThat(withRule.securityRules()).hasSize(3)
        .anySatisfy(r -> assertThat(r.sameAs(SecurityRule.ingressTcp("198.51.100.0/24", 9000))).isTrue());

    await(() -> client.createVm(spec("client-lifecycle-2")));
    List<Vm> found = await(() -> client.findVmsByName("client-lifecycle"));
    assertThat(found).extracting(Vm::id).containsExactly(created.id()); // the API's search matches both names
    assertThat(fake.calls("GET", "/v1/core/virtual-machines")).anySatisfy(c ->
        assertThat(c.query()).contains("search=client-lifecycle"));

    await(() -> client.deleteVm(created.id()));
    assertThat(fake.calls("DELETE", "/v1/core/virtual-machines/" + created.id())).hasSize(1);
    Thread.sleep(fake.deleteMs + 300);
    assertThatThrownBy(() -> await(() -> client.getVm(created.id())))
        .isInstanceOfSatisfying(HyperstackException.class, e -> {
          assertThat(e.notFound()).isTrue();
          assertThat(e.httpStatus()).isEqualTo(404);
          assertThat(e.getMessage()).contains("not found");
          assertThat(e.transientFailure()).isFalse();
        });
  }

  @Test
  void everyRequestCarriesTheApiKeyHeaderAndAWrongKeyIsRefusedWithTheApisMessage() {
    HyperstackClient wrong = new HyperstackClient(vertx, config("not-the-key-123", fake.baseUrl()));
    try {
      assertThatThrownBy(() -> await(() -> wrong.getVm(1)))
          .isInstanceOfSatisfying(HyperstackException.class, e -> {
            assertThat(e.httpStatus()).isEqualTo(401);
            assertThat(e.getMessage()).contains("Unauthorized").doesNotContain("not-the-key-123");
            assertThat(e.transientFailure()).isFalse();
          });
    } finally {
      wrong.close();
    }
  }

  @Test
  void aRefusedCreationFailsWithTheApisMessage() {
    fake.script("client-refused", FakeHyperstack.Script.REFUSED);
    assertThatThrownBy(() -> await(() -> client.createVm(spec("client-refused"))))
        .isInstanceOfSatisfying(HyperstackException.class, e -> {
          assertThat(e.httpStatus()).isEqualTo(400);
          assertThat(e.getMessage()).startsWith("Quota exceeded");
          assertThat(e.reason()).isEqualTo("insufficient_capacity");
          assertThat(e.transientFailure()).isFalse();
        });
    assertThatThrownBy(() -> await(() -> client.createVm(spec("x".repeat(51)))))
        .isInstanceOfSatisfying(HyperstackException.class, e ->
            assertThat(e.getMessage()).contains("name").contains("50"));
  }

  @Test
  void anUnreachableApiIsATransientFailureWithoutTheKeyInTheMessage() {
    HyperstackClient down = new HyperstackClient(vertx,
        config(FakeHyperstack.API_KEY, "http://127.0.0.1:" + TestServices.freePort() + "/v1"));
    try {
      assertThatThrownBy(() -> await(() -> down.getVm(5)))
          .isInstanceOfSatisfying(HyperstackException.class, e -> {
            assertThat(e.httpStatus()).isZero();
            assertThat(e.transientFailure()).isTrue();
            assertThat(e.getMessage()).contains("unreachable").contains("GET /core/virtual-machines/5")
                .doesNotContain(FakeHyperstack.API_KEY);
          });
    } finally {
      down.close();
    }
  }

  @Test
  void aSlowAnswerTimesOutAsATransientFailure() {
    fake.createResponseDelayMs = 3_000;
    try {
      assertThatThrownBy(() -> await(() -> client.createVm(spec("client-slow"))))
          .isInstanceOfSatisfying(HyperstackException.class, e -> assertThat(e.transientFailure()).isTrue());
    } finally {
      fake.createResponseDelayMs = 0;
    }
    assertThat(fake.vmsNamed("client-slow")).as("the API made the VM even though the answer was lost").hasSize(1);
  }
}
