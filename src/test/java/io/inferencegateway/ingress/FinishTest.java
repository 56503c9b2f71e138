package io.inferencegateway.ingress;

import io.inferencegateway.limits.LocalRateLimiter;
import io.inferencegateway.metrics.GatewayMeters;
import io.inferencegateway.metrics.UsageRecord;
import io.inferencegateway.routing.ModelRegistry;
import io.inferencegateway.routing.ReplicaRouter;
import io.inferencegateway.routing.ReplicaState;
import io.inferencegateway.routing.RouteHints;
import io.inferencegateway.support.Fake;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The one ending of every request: timers, lease, answer, tokens and the usage record, whatever happened. */
class FinishTest {

  final AtomicLong nanos = new AtomicLong(0);
  final Watchdog watchdog = new Watchdog(60_000, 60_000, 60_000, nanos::get);
  final AtomicLong millis = new AtomicLong(1_000_000);
  final LocalRateLimiter limiter = new LocalRateLimiter(millis::get);
  final List<UsageRecord> records = new ArrayList<>();
  final GatewayMeters meters = new GatewayMeters(new SimpleMeterRegistry());
  final List<Runnable> later = new ArrayList<>();
  final Finish finish = new Finish(watchdog, limiter, records::add, meters, nanos::get,
      (delayMs, action) -> later.add(action));
  final ModelRegistry registry = Stages.registry(1, "m");

  final Fake<HttpServerResponse> response = Fake.of(HttpServerResponse.class)
      .on("end", args -> Future.succeededFuture());
  final Fake<HttpConnection> connection = Fake.of(HttpConnection.class);
  boolean bodyEnded = true;
  Fake<HttpServerRequest> request;

  ProxyExchange exchange() {
    request = Fake.of(HttpServerRequest.class)
        .returns("response", response.get())
        .on("isEnded", args -> bodyEnded)
        .returns("version", HttpVersion.HTTP_1_1)
        .returns("connection", connection.get());
    ProxyExchange ex = new ProxyExchange(request.get(), Operation.CHAT, 0);
    meters.inFlight().incrementAndGet(); // as the pipeline does on arrival
    return ex;
  }

  ReplicaState leased(ProxyExchange ex) {
    ex.key = Stages.key(3, 100, 50, null);
    ex.model = "m";
    ex.lease = new ReplicaRouter(Stages.CONFIG.router()).choose(registry.model("m"), RouteHints.NONE).lease();
    watchdog.watch(ex);
    return ex.lease.replica();
  }

  @Test
  void anAnsweredRequestIsRecordedItsLeaseReleasedAndItsTokensCharged() {
    ProxyExchange ex = exchange();
    ReplicaState replica = leased(ex);
    ex.status = 200;
    ex.promptTokens = 20;
    ex.completionTokens = 30;
    ex.totalTokens = 50;
    nanos.set(7_000);
    finish.apply(ex, Future.succeededFuture());
    assertThat(records).singleElement().satisfies(r -> {
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.replicaId()).isEqualTo(replica.id());
      assertThat(r.durationNanos()).isEqualTo(7_000);
      assertThat(r.totalTokens()).isEqualTo(50);
    });
    assertThat(replica.inFlight()).isZero();
    assertThat(watchdog.watching()).isZero();
    assertThat(meters.inFlight().get()).isZero();
    assertThat(limiter.decide(3, 100, 50).allowed()).as("the key's 50 tokens a minute are spent").isFalse();
    assertThat(response.calls("setStatusCode")).as("the relay answered, not the ending").isZero();
  }

  @Test
  void aRefusalIsAnsweredInOpenAisShapeAndRecorded() {
    ProxyExchange ex = exchange();
    ex.key = Stages.key(3, 100, null, null);
    finish.apply(ex, Future.failedFuture(IngressFailure.rateLimited("requests", 2000)));
    assertThat(response.calls("end")).isEqualTo(1);
    assertThat(records).singleElement().satisfies(r -> {
      assertThat(r.status()).isEqualTo(429);
      assertThat(r.error()).contains("requests per minute");
    });
    assertThat(connection.calls("close")).isZero();
  }

  @Test
  void anUnauthenticatedRequestIsAnsweredButNotRecordedAndItsUnreadBodyClosesTheConnection() {
    bodyEnded = false;
    ProxyExchange ex = exchange();
    finish.apply(ex, Future.failedFuture(IngressFailure.unauthorized("no")));
    assertThat(records).isEmpty();
    assertThat(meters.unauthorized().count()).isEqualTo(1);
    assertThat(meters.inFlight().get()).isZero();
    assertThat(response.calls("putHeader")).as("Connection: close, content-type").isEqualTo(2);
    assertThat(request.calls("resume")).as("the rest of the body is discarded as it comes").isEqualTo(1);
    assertThat(connection.calls("close")).isZero();
    assertThat(later).hasSize(1);
    later.get(0).run();
    assertThat(connection.calls("close")).as("closed after the linger time at most").isEqualTo(1);
  }

  @Test
  void aClientThatLeftIsRecordedAs499WithNoVerdictOnTheReplica() {
    ProxyExchange ex = exchange();
    ReplicaState replica = leased(ex);
    ex.markClientGone();
    finish.apply(ex, Future.failedFuture(new IllegalStateException("reset")));
    assertThat(records).singleElement().satisfies(r -> {
      assertThat(r.status()).isEqualTo(499);
      assertThat(r.error()).isEqualTo("client closed the connection");
    });
    assertThat(replica.failures()).isZero();
    assertThat(replica.inFlight()).isZero();
    ex.markClientGone();
    assertThat(records).as("an ended request is not recorded twice").hasSize(1);
  }
}
