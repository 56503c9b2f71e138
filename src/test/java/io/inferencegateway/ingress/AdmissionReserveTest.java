package io.inferencegateway.ingress;

import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.routing.ModelRegistry;
import io.inferencegateway.routing.ModelRoute;
import io.inferencegateway.routing.PrefixAffinity;
import io.inferencegateway.routing.ReplicaLease;
import io.inferencegateway.routing.ReplicaRouter;
import io.inferencegateway.routing.RouteHints;
import io.inferencegateway.store.ApiKeyRow;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The slots fair admission keeps for keys under their fair share: one replica capped at 4 requests, 1 reserved. The
 * gate alone (no HTTP), on one Vert.x context, with timers that never fire (no waits time out here).
 */
class AdmissionReserveTest {

  static final GatewayConfig.Admission SETTINGS = new GatewayConfig.Admission(true, 4, 1000, 1.0, 100, 30_000, 1);
  static final AdmissionGate.Timers NO_TIMERS = new AdmissionGate.Timers() {
    @Override
    public long set(Context context, long delayMs, Runnable action) {
      return 0;
    }

    @Override
    public void cancel(Context context, long id) {
    }
  };

  final Vertx vertx = Vertx.vertx();
  final Context context = vertx.getOrCreateContext();
  final ModelRegistry registry = Stages.registry(1, "m");
  final ModelRoute route = registry.model("m");
  final ApiKeyRow heavy = Stages.key(1, 1000, null, null);
  final ApiKeyRow light = Stages.key(2, 1000, null, null);

  @AfterEach
  void close() {
    vertx.close().await();
  }

  AdmissionGate gate(GatewayConfig.Admission settings) {
    return new AdmissionGate(settings, 5000, registry, () -> 0L, NO_TIMERS, new SimpleMeterRegistry());
  }

  /** Asks for a ticket on the gate's context; the future completes when the request is let in. */
  Future<AdmissionGate.Ticket> admit(AdmissionGate gate, ApiKeyRow key) {
    return on(() -> gate.admit(route, key, ApiKeyRow.DEFAULT_PRIORITY, Stages.exchange(Operation.CHAT)));
  }

  <T> T on(Callable<T> action) {
    return Future.<T>future(p -> context.runOnContext(v -> {
      try {
        p.complete(action.call());
      } catch (Exception e) {
        p.fail(e);
      }
    })).await();
  }

  /** Lets the context run what the gate scheduled on it (completions of waiters let in). */
  void settle() {
    on(() -> null);
  }

  @Test
  void aKeyAloneTakesEverySlot() {
    AdmissionGate gate = gate(SETTINGS);
    List<Future<AdmissionGate.Ticket>> tickets = List.of(admit(gate, heavy), admit(gate, heavy), admit(gate, heavy),
        admit(gate, heavy));
    assertThat(tickets).allMatch(Future::succeeded);
    Future<AdmissionGate.Ticket> fifth = admit(gate, heavy);
    assertThat(fifth.isComplete()).as("over the cap it waits").isFalse();
    assertThat(gate.admitted("m")).isEqualTo(4);
  }

  @Test
  void aKeyAtItsFairShareLeavesTheReservedSlotToAKeyUnderIt() {
    AdmissionGate gate = gate(SETTINGS);
    Future<AdmissionGate.Ticket> light1 = admit(gate, light);
    Future<AdmissionGate.Ticket> heavy1 = admit(gate, heavy);
    Future<AdmissionGate.Ticket> heavy2 = admit(gate, heavy);
    Future<AdmissionGate.Ticket> heavy3 = admit(gate, heavy);
    settle();
    assertThat(List.of(light1, heavy1, heavy2)).allMatch(Future::succeeded);
    assertThat(heavy3.isComplete()).as("heavy holds its share (2 of 4 slots, two keys): the last slot is kept")
        .isFalse();
    assertThat(gate.admitted("m")).isEqualTo(3);

    Future<AdmissionGate.Ticket> light2 = admit(gate, light);
    settle();
    assertThat(light2.succeeded()).as("the light key takes the kept slot past the heavy key's waiting request").isTrue();
    assertThat(heavy3.isComplete()).isFalse();

    on(() -> {
      light1.result().release();
      return null;
    });
    settle();
    assertThat(heavy3.isComplete()).as("a slot freed, but it is the one kept: heavy still holds its share").isFalse();

    on(() -> {
      light2.result().release();
      return null;
    });
    settle();
    assertThat(heavy3.succeeded()).as("the light key left: the heavy key is alone and may use every slot").isTrue();
    assertThat(gate.admitted("m")).isEqualTo(3);
  }

  @Test
  void aTicketOfAKeyOverItsShareTellsTheRouterToKeepTheReservedSlotsFree() {
    ModelRegistry two = Stages.registry(2, "m2");
    ModelRoute m2 = two.model("m2");
    AdmissionGate gate = new AdmissionGate(SETTINGS, 5000, two, () -> 0L, NO_TIMERS, new SimpleMeterRegistry());
    Future<AdmissionGate.Ticket> lightTicket = on(() -> gate.admit(m2, light, 5, Stages.exchange(Operation.CHAT)));
    List<Integer> keepFree = new java.util.ArrayList<>();
    for (int i = 0; i < 6; i++) {
      Future<AdmissionGate.Ticket> t = on(() -> gate.admit(m2, heavy, 5, Stages.exchange(Operation.CHAT)));
      keepFree.add(t.isComplete() ? t.result().keepFree() : null);
    }
    assertThat(lightTicket.result().keepFree()).isZero();
    assertThat(keepFree).as("8 slots, two keys: a share of 4; then 6 of 8 (2 kept), then the queue")
        .containsExactly(0, 0, 0, 0, 1, null);
  }

  @Test
  void aKeyOverItsShareIsPacedToOneStreamedPromptBeingComputedPerReplica() {
    ModelRegistry two = Stages.registry(2, "m2");
    ModelRoute m2 = two.model("m2");
    GatewayConfig.Admission settings = new GatewayConfig.Admission(true, 8, 1000, 1.0, 100, 30_000, 1);
    AdmissionGate gate = new AdmissionGate(settings, 5000, two, () -> 0L, NO_TIMERS, new SimpleMeterRegistry());
    ReplicaRouter router = new ReplicaRouter(Stages.CONFIG.router(), false, 8);
    AdmissionGate.Ticket lightTicket = on(() -> gate.admit(m2, light, 5, Stages.exchange(Operation.CHAT))).result();
    for (int i = 0; i < 8; i++) {
      assertThat(admit(gate, m2, heavy).result().keepFree()).as("under its share of 16 slots / 2 keys").isZero();
    }
    // both replicas compute a streamed prompt
    ReplicaLease first = router.choose(m2, hints("a"), 0).lease();
    first.streamed();
    ReplicaLease second = router.choose(m2, hints("b"), 0).lease();
    second.streamed();
    assertThat(second.replica()).as("the second avoids the replica computing the first").isNotSameAs(first.replica());

    Future<AdmissionGate.Ticket> ninth = admit(gate, m2, heavy);
    settle();
    assertThat(ninth.isComplete()).as("at its share, and every replica computes a prompt").isFalse();
    assertThat(first.firstByte()).isTrue();
    on(() -> {
      lightTicket.promptComputed();
      return null;
    });
    settle();
    assertThat(ninth.succeeded()).as("a replica is done with its prompt").isTrue();
    assertThat(ninth.result().keepFree()).isEqualTo(1);

    Future<AdmissionGate.Ticket> tenth = admit(gate, m2, heavy);
    settle();
    assertThat(tenth.isComplete()).as("the ninth, not placed yet, takes the idle replica").isFalse();
    ReplicaLease ninthLease = router.choose(m2, hints("c"), ninth.result().keepFree()).lease();
    ninthLease.streamed();
    ninth.result().routed();
    assertThat(ninthLease.replica()).as("placed on the replica computing no prompt").isSameAs(first.replica());
    on(() -> {
      lightTicket.promptComputed();
      return null;
    });
    settle();
    assertThat(tenth.isComplete()).as("both replicas compute a prompt again").isFalse();
    second.firstByte();
    on(() -> {
      lightTicket.promptComputed();
      return null;
    });
    settle();
    assertThat(tenth.succeeded()).isTrue();
  }

  Future<AdmissionGate.Ticket> admit(AdmissionGate gate, ModelRoute model, ApiKeyRow key) {
    return on(() -> gate.admit(model, key, ApiKeyRow.DEFAULT_PRIORITY, Stages.exchange(Operation.CHAT)));
  }

  static RouteHints hints(String key) {
    return new RouteHints(PrefixAffinity.hash("m2\u0000user:" + key), true, Set.of());
  }

  @Test
  void withoutAReserveTheWaitingHeavyRequestGoesFirst() {
    AdmissionGate gate = gate(new GatewayConfig.Admission(true, 4, 1000, 1.0, 100, 30_000, 0));
    admit(gate, light);
    admit(gate, heavy);
    admit(gate, heavy);
    Future<AdmissionGate.Ticket> heavy3 = admit(gate, heavy);
    settle();
    assertThat(heavy3.succeeded()).as("no slot kept: the fourth slot goes to whoever asks").isTrue();
    Future<AdmissionGate.Ticket> light2 = admit(gate, light);
    settle();
    assertThat(light2.isComplete()).isFalse();
  }

  @Test
  void theReserveStaysBelowTheCap() {
    assertThat(new GatewayConfig.Admission(true, 4, 1, 1, 1, 1, 9).effectiveReserve()).isEqualTo(3);
    assertThat(new GatewayConfig.Admission(true, 1, 1, 1, 1, 1, 1).effectiveReserve()).isZero();
    assertThat(new GatewayConfig.Admission(true, 0, 1, 1, 1, 1, 1).effectiveReserve()).isZero();
  }
}
