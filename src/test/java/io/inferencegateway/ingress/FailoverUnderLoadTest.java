package io.inferencegateway.ingress;

import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.simulator.SimulatorVerticle;
import io.inferencegateway.store.ModelRow;
import io.inferencegateway.support.GatewayHarness;
import io.inferencegateway.support.Http;
import io.inferencegateway.support.Poll;
import io.inferencegateway.support.SimulatorProcess;
import io.inferencegateway.support.TestServices;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 17 §1: non-streaming load over three replicas, one of them a separate process killed with SIGKILL (its
 * connections reset mid-answer) and started again: no client sees an error. {@code -Dfailover.requests=20000} for
 * the full run (2,000 by default, for CI).
 */
class FailoverUnderLoadTest {

  @Test
  @Timeout(value = 30, unit = TimeUnit.MINUTES) // the 20,000 requests take longer than the default 5 min
  void killingAndRestartingAReplicaUnderLoadCostsNoClientError() {
    int total = Integer.getInteger("failover.requests", 2000);
    String model = "test/failover-load";
    Vertx vertx = Vertx.vertx();
    Http http = new Http(vertx);
    int port = TestServices.freePort();
    String[] args = {"--models", model, "--tokens", "20", "--itl-ms", "2"};
    // health checks with time to spare: a simulator in a JVM of its own answers slowly while it warms up
    try (GatewayHarness gw = GatewayHarness.embedded(c -> c.withHealth(new GatewayConfig.Health(1000, 3000)))) {
      ModelRow m = gw.model(model);
      GatewayHarness.Key key = gw.key("failover", 10_000_000, null, null, null);
      SimulatorProcess victim = SimulatorProcess.start(port, args);
      gw.replica(m, victim.url());
      for (int i = 0; i < 2; i++) {
        SimulatorVerticle sim = gw.simulator(0, GatewayHarness.simSettings(model,
            new JsonObject().put("tokensPerAnswer", 20).put("interTokenMs", 2)));
        gw.replica(m, "http://127.0.0.1:" + sim.actualPort());
      }
      Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
      List<String> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
      AtomicInteger sent = new AtomicInteger();
      AtomicInteger target = new AtomicInteger(total); // raised once the replica is back, so it rejoins under load
      AtomicInteger finished = new AtomicInteger();
      List<Future<Void>> workers = new ArrayList<>();
      for (int w = 0; w < 16; w++) {
        workers.add(worker(http, gw.baseUrl, key.plaintext(), model, target, sent, finished, statuses, errors));
      }
      Poll.until("a third of the load", Duration.ofMinutes(10), () -> finished.get() >= total / 3);
      victim.kill();
      long killedAt = finished.get();
      Poll.until("half of the load", Duration.ofMinutes(10), () -> finished.get() >= total / 2);
      target.set(Integer.MAX_VALUE); // the load goes on while the replica starts again
      SimulatorProcess back = SimulatorProcess.start(port, args);
      long restartedAt = finished.get();
      target.set(Math.max(total, (int) restartedAt + total / 4));
      Future.all(workers).await();
      long servedAfterRestart = http.get(back.url() + "/sim/stats", null).json().getJsonObject("byPath")
          .getLong("/v1/chat/completions", 0L);
      back.close();
      var counter = gw.app.services().meters().registry().find("gateway_failovers").tag("model", model).counter();
      long failovers = counter == null ? 0 : Math.round(counter.count());
      System.out.println("[failover] " + finished.get() + " requests, killed at " + killedAt + ", restarted at "
          + restartedAt + ", statuses " + new TreeMap<>(statuses) + ", fail-overs " + failovers
          + ", answered by the restarted replica " + servedAfterRestart);
      assertThat(finished.get()).isEqualTo(target.get()).isGreaterThanOrEqualTo(total);
      assertThat(servedAfterRestart).as("the restarted replica rejoined under load").isPositive();
      assertThat(errors).as("client errors").isEmpty();
      assertThat(statuses.keySet()).containsOnly(200);
    } finally {
      http.close();
      vertx.close().await();
    }
  }

  private static Future<Void> worker(Http http, String baseUrl, String key, String model, AtomicInteger total,
                                     AtomicInteger sent, AtomicInteger finished, Map<Integer, AtomicInteger> statuses,
                                     List<String> errors) {
    Promise<Void> done = Promise.promise();
    next(http, baseUrl, key, model, total, sent, finished, statuses, errors, done);
    return done.future();
  }

  private static void next(Http http, String baseUrl, String key, String model, AtomicInteger total, AtomicInteger sent,
                           AtomicInteger finished, Map<Integer, AtomicInteger> statuses, List<String> errors,
                           Promise<Void> done) {
    int n = sent.getAndIncrement();
    if (n >= total.get()) {
      done.tryComplete();
      return;
    }
    JsonObject body = new JsonObject().put("model", model).put("messages", new JsonArray()
        .add(new JsonObject().put("role", "user").put("content", "request number " + n)));
    http.postAsync(baseUrl + "/v1/chat/completions", key, body).onComplete(ar -> {
      if (ar.succeeded()) {
        statuses.computeIfAbsent(ar.result().status(), s -> new AtomicInteger()).incrementAndGet();
        if (ar.result().status() != 200) {
          errors.add(ar.result().status() + " " + ar.result().body());
        }
      } else {
        errors.add(String.valueOf(ar.cause()));
      }
      finished.incrementAndGet();
      next(http, baseUrl, key, model, total, sent, finished, statuses, errors, done);
    });
  }
}
