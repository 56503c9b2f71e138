package io.inferencegateway.ingress;

import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.simulator.SimulatorVerticle;
import io.inferencegateway.support.GatewayHarness;
import io.inferencegateway.support.Http;
import io.inferencegateway.support.Poll;
import io.inferencegateway.support.RawClients;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 14 §1's acceptance: nothing is buffered for clients that are not allowed in, and clients that are allowed in
 * cannot make the gateway hold more than its body budget. The gateway runs in this JVM, so its heap (after a full
 * collection) and the process's resident memory are measured directly; the clients are plain sockets driven from one
 * thread, holding nothing on the Java heap.
 */
class IntakeFloodTest {

  static final String MODEL = "test/flood";
  static final long MIB = 1024 * 1024;

  @Test
  void unauthenticatedAnnouncementsOfLargeBodiesAreRefusedAtOnceAndCostNoMemory() throws Exception {
    try (GatewayHarness gw = GatewayHarness.embedded(c -> c.withHttp(c.http().withClients(
        new GatewayConfig.Clients(256 * MIB, 64 * MIB, 30_000, 60_000, 20_000, 1000, false))))) {
      int port = gw.app.port();
      // warm-up: the refusal path compiled, the event loops' buffer pools allocated
      try (RawClients warm = announce(port, 50)) {
        assertThat(warm.clients()).allMatch(c -> c.status() == 401);
      }
      long rssBefore = rssBytes();
      long heapBefore = heapAfterGc();
      AtomicLong rssPeak = new AtomicLong(rssBefore);
      Thread sampler = sampleRss(rssPeak);
      long[] latencies;
      long heapDuring;
      try (RawClients flood = announce(port, 400)) {
        heapDuring = heapAfterGc(); // the refused connections are still open (the gateway lingers before closing)
        latencies = flood.clients().stream().mapToLong(RawClients.Client::answerMillis).sorted().toArray();
        for (RawClients.Client c : flood.clients()) {
          assertThat(c.status()).as("answer of a client without a valid key").isEqualTo(401);
          assertThat(c.received()).containsIgnoringCase("connection: close").contains("invalid_api_key");
        }
        // each connection is closed once the answer is out (its body never comes): within the linger time
        flood.pollUntilClosed(Duration.ofMillis(PendingBody.LINGER_MS + 3000));
        long open = flood.clients().stream().filter(c -> !c.closedByServer()).count();
        assertThat(open).as("connections still open after the linger time").isZero();
      } finally {
        sampler.interrupt();
        sampler.join();
      }
      long rssGrowth = rssPeak.get() - rssBefore;
      long heapGrowth = heapDuring - heapBefore;
      System.out.printf("IntakeFlood unauthenticated: 400 x 10 MiB announced; 401 latency p50 %d ms, p99 %d ms, max %d"
              + " ms; RSS growth (peak) %.1f MiB; heap growth %.1f MiB%n", latencies[200], latencies[395],
          latencies[399], rssGrowth / (double) MIB, heapGrowth / (double) MIB);
      assertThat(latencies[0]).as("every client got an answer").isGreaterThanOrEqualTo(0);
      assertThat(latencies[399]).as("slowest 401, from its head being sent (ms)").isLessThan(1000);
      assertThat(rssGrowth).as("resident memory growth").isLessThan(64 * MIB);
      assertThat(heapGrowth).as("heap growth").isLessThan(64 * MIB);
    }
  }

  @Test
  void slowSendersHoldNoMoreThanTheBudgetTheExcessIsRefusedAndOthersAreServed() throws Exception {
    long budget = 4 * MIB;
    long perKey = 2 * MIB;
    try (GatewayHarness gw = GatewayHarness.embedded(c -> c.withHttp(c.http().withClients(
            new GatewayConfig.Clients(budget, perKey, 60_000, 60_000, 20_000, 1000, false)))
        // a loaded machine must not make the replica look down (the harness checks health within 500 ms)
        .withHealth(new GatewayConfig.Health(1000, 10_000)))) {
      SimulatorVerticle sim = gw.simulator(0, GatewayHarness.simSettings(MODEL, new JsonObject()));
      gw.replica(gw.model(MODEL), "http://127.0.0.1:" + sim.actualPort());
      GatewayHarness.Key slow = gw.key("slow-sender");
      GatewayHarness.Key other = gw.key("someone-else");
      ClientLimits limits = gw.app.services().clientLimits();
      byte[] body = chatBody(64 * 1024);
      int firstPart = 16 * 1024;
      Vertx vertx = Vertx.vertx();
      Http http = new Http(vertx);
      long heapBefore = heapAfterGc();
      try (RawClients senders = RawClients.connect(gw.app.port(), 400)) {
        senders.sendHeads(i -> "POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer "
            + slow.plaintext() + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n");
        byte[] head = Arrays.copyOf(body, firstPart);
        for (int i = 0; i < 400; i++) {
          senders.send(i, head);
        }
        // the budget fills; whoever does not fit is refused at once
        Poll.until("the budget to fill", Duration.ofSeconds(10),
            () -> limits.buffered(slow.row().id()) > perKey - body.length);
        long expectRefused = 400 - perKey / body.length;
        long until = System.nanoTime() + 20_000_000_000L;
        while (senders.clients().stream().filter(c -> c.status() == 503).count() < expectRefused
            && System.nanoTime() < until) {
          senders.poll(Duration.ofMillis(200));
        }
        long refused = senders.clients().stream().filter(c -> c.status() == 503).count();
        long heapHeld = heapAfterGc() - heapBefore;
        long held = limits.buffered(slow.row().id());
        System.out.printf("IntakeFlood slow senders: 400 x 16 KiB sent of 64 KiB announced; held %.2f MiB (budget %d MiB, per key"
                + " %d MiB); %d refused with 503; heap growth %.1f MiB%n", held / (double) MIB, budget / MIB,
            perKey / MIB, refused, heapHeld / (double) MIB);
        assertThat(held).isLessThanOrEqualTo(perKey);
        assertThat(limits.buffered()).isLessThanOrEqualTo(budget);
        // a body takes its announced length when its first byte arrives: those beyond the key's share are refused
        assertThat(refused).as("senders beyond the key's share of the budget").isEqualTo(expectRefused);
        RawClients.Client busy = senders.clients().stream().filter(c -> c.status() == 503).findFirst().orElseThrow();
        assertThat(busy.received()).containsIgnoringCase("retry-after: 1").contains("\"code\":\"server_busy\"")
            .contains("\"type\":\"service_unavailable\"");
        assertThat(heapHeld).as("heap held while the bodies wait").isLessThan(budget + 32 * MIB);

        // meanwhile, another key's requests are served as usual
        JsonObject chat = new JsonObject().put("model", MODEL)
            .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hello")));
        for (int i = 0; i < 10; i++) {
          long t0 = System.nanoTime();
          Http.Response r = http.post(gw.baseUrl + "/v1/chat/completions", other.plaintext(), chat);
          assertThat(r.status()).isEqualTo(200);
          assertThat((System.nanoTime() - t0) / 1_000_000).as("another key's request (ms)").isLessThan(5000);
        }

        // the senders that fit finish their bodies and are answered
        byte[] rest = Arrays.copyOfRange(body, firstPart, body.length);
        long waiting = 0;
        for (int i = 0; i < 400; i++) {
          if (senders.clients().get(i).status() == 0 && !senders.clients().get(i).closedByServer()) {
            senders.send(i, rest);
            waiting++;
          }
        }
        senders.poll(Duration.ofSeconds(30));
        long answered = senders.clients().stream().filter(c -> c.status() == 200).count();
        assertThat(waiting).isGreaterThan(0);
        assertThat(answered).as("held senders answered once their bodies arrived; statuses: %s",
            senders.clients().stream().map(c -> c.status()).collect(java.util.stream.Collectors.groupingBy(
                x -> x, java.util.stream.Collectors.counting()))).isEqualTo(waiting);
        Poll.until("the budget given back", Duration.ofSeconds(10), () -> limits.buffered() == 0);
      } finally {
        http.close();
        vertx.close().await();
      }
    }
  }

  /** {@code n} clients announcing a 10 MiB body without a valid key, then sending nothing; waits for the answers. */
  static RawClients announce(int port, int n) throws Exception {
    RawClients clients = RawClients.connect(port, n);
    clients.sendHeads(i -> "POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
        + (i % 2 == 0 ? "" : "Authorization: Bearer sk-not-a-key-" + i + "\r\n")
        + "Content-Length: " + (10 * MIB) + "\r\n\r\n");
    clients.poll(Duration.ofSeconds(30));
    return clients;
  }

  /** A chat request of exactly {@code size} bytes. */
  static byte[] chatBody(int size) {
    String start = "{\"model\":\"" + MODEL + "\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"";
    String end = "\"}]}";
    return (start + "x".repeat(size - start.length() - end.length()) + end).getBytes(StandardCharsets.UTF_8);
  }

  static long heapAfterGc() {
    System.gc();
    System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  static long rssBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
    throw new IllegalStateException("no VmRSS in /proc/self/status");
  }

  /** Samples the resident size every 20 ms into {@code peak} until interrupted. */
  static Thread sampleRss(AtomicLong peak) {
    Thread t = new Thread(() -> {
      while (!Thread.currentThread().isInterrupted()) {
        peak.accumulateAndGet(rssBytes(), Math::max);
        try {
          Thread.sleep(20);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "rss-sampler");
    t.setDaemon(true);
    t.start();
    return t;
  }
}
