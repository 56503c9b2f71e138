package io.inferencegateway.jmh;

import io.inferencegateway.auth.ApiKeys;
import io.inferencegateway.auth.KeyCache;
import io.inferencegateway.auth.KeyCheck;
import io.inferencegateway.config.ConfigLoader;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.ingress.Operation;
import io.inferencegateway.ingress.RequestValidator;
import io.inferencegateway.ingress.SseRelay;
import io.inferencegateway.limits.CreditBook;
import io.inferencegateway.limits.LimitDecision;
import io.inferencegateway.limits.LocalRateLimiter;
import io.inferencegateway.routing.Choice;
import io.inferencegateway.routing.ModelRoute;
import io.inferencegateway.routing.PrefixAffinity;
import io.inferencegateway.routing.ReplicaRouter;
import io.inferencegateway.routing.ReplicaState;
import io.inferencegateway.routing.RouteHints;
import io.inferencegateway.routing.RoutingStrategy;
import io.inferencegateway.routing.UpstreamTarget;
import io.inferencegateway.store.ApiKeyRow;
import io.inferencegateway.store.ReplicaRow;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Micro-benchmarks of the hot path's pieces, so a regression shows without the full benchmark:
 * {@code bench/jmh.sh} (or {@code bench/jmh.sh KeyLookup} for one). Not part of the test suite.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class HotPathBenchmarks {

  static final String CHAT = "{\"model\":\"bench/model\",\"stream\":false,\"max_tokens\":64,\"messages\":["
      + "{\"role\":\"system\",\"content\":\"You are a helpful assistant.\"},"
      + "{\"role\":\"user\",\"content\":\"Write a short haiku about load balancers.\"}]}";

  KeyCache keys;
  String presentedKey;
  LocalRateLimiter limiter;
  CreditBook credit;
  ReplicaRouter router;
  ModelRoute model;
  Buffer chatBody;
  Buffer sseStream;
  Buffer[] sseChunks;

  @Setup
  public void setUp() {
    keys = new KeyCache(null);
    List<ApiKeyRow> rows = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      ApiKeys.Generated g = ApiKeys.generate();
      rows.add(new ApiKeyRow(i, "u" + i, g.hash(), g.prefix(), 1_000_000, null, null, true, null, Instant.now(), null));
      if (i == 4242) {
        presentedKey = g.plaintext();
      }
    }
    keys.replaceAll(rows);
    limiter = new LocalRateLimiter();
    credit = new CreditBook(0.01, 1000);
    credit.granted(7, 1_000_000_000, 0, CreditBook.MAX_CREDIT, false, System.currentTimeMillis());
    GatewayConfig.Router settings = GatewayConfig.fromJson(ConfigLoader.bundledDefaults()).router();
    router = new ReplicaRouter(settings);
    List<ReplicaState> replicas = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      ReplicaRow row = new ReplicaRow(i, 1, "http://10.0.0." + i + ":8000", null, null, null, ReplicaRow.SUCCESS, null,
          null, null, null, null, null, null, null, null, Instant.now(), Instant.now());
      replicas.add(new ReplicaState(row, "m", UpstreamTarget.parse(row.endpoint()), settings.breaker()));
    }
    model = new ModelRoute(1, "m", "p2c", RoutingStrategy.named("p2c"), true, replicas);
    chatBody = Buffer.buffer(CHAT);
    StringBuilder sse = new StringBuilder();
    String chunk = "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\","
        + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\" word\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n";
    for (int i = 0; i < 20; i++) {
      sse.append(chunk);
    }
    sse.append("data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\","
        + "\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"total_tokens\":29,\"completion_tokens\":20}}\n\n");
    sse.append("data: [DONE]\n\n");
    sseStream = Buffer.buffer(sse.toString());
    sseChunks = new Buffer[22];
    String[] parts = sse.toString().split("(?<=\n\n)");
    for (int i = 0; i < parts.length; i++) {
      sseChunks[i] = Buffer.buffer(parts[i]);
    }
  }

  /** Hash of the presented key plus the snapshot look-up. */
  @Benchmark
  public KeyCheck keyLookup() {
    return keys.check(presentedKey).result();
  }

  /** The in-process limiter (the Redis path adds one batched round trip). */
  @Benchmark
  public LimitDecision limitCheck() {
    return limiter.decide(7, 1_000_000_000, 0);
  }

  /**
   * Spending a busy key's credit prefetched from Redis: the Redis limiter's path for all but one request in about 500
   * at this limit (the top-up's answer is applied in place here, as the event loop does when Redis answers).
   */
  @Benchmark
  public CreditBook.Spend creditSpend() {
    long now = System.currentTimeMillis();
    CreditBook.Spend spend = credit.spend(7, 1_000_000_000, 0, now);
    if (spend == CreditBook.Spend.SPENT_TOP_UP) {
      credit.granted(7, 1_000_000_000, 0, credit.wanted(7, 1_000_000_000, 0, now), false, now);
    }
    return spend;
  }

  /** Parsing and validating a chat request body. */
  @Benchmark
  public Object parseAndValidate() {
    JsonObject json = new JsonObject(chatBody);
    return RequestValidator.validate(Operation.CHAT, json);
  }

  /** Choosing a replica among three with prefix affinity. */
  @Benchmark
  public Choice route() {
    Choice c = router.choose(model, new RouteHints(PrefixAffinity.hash("m\u0000user:hello"), true, Set.of()));
    c.replica().breaker().onSuccess();
    return c;
  }

  /** Relaying a 20-token stream that arrives in one read, capturing usage and hiding the usage chunk. */
  @Benchmark
  public void sseRelayOneRead(Blackhole bh) {
    SseRelay relay = new SseRelay(false, false, bh::consume);
    relay.feed(sseStream);
    bh.consume(relay.usage());
  }

  /** The same stream arriving one event per read (tokens trickling in). */
  @Benchmark
  public void sseRelayPerEvent(Blackhole bh) {
    SseRelay relay = new SseRelay(false, false, bh::consume);
    for (Buffer b : sseChunks) {
      if (b != null) {
        relay.feed(b);
      }
    }
    bh.consume(relay.usage());
  }
}
