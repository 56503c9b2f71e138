package io.inferencegateway.ingress;

import io.inferencegateway.limits.LimitDecision;
import io.inferencegateway.limits.LocalRateLimiter;
import io.inferencegateway.limits.RateLimiter;
import io.vertx.core.Future;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** Stage "admit" over the in-process limiter and an injected clock. */
class AdmitTest {

  final AtomicLong now = new AtomicLong(1_000_000);
  final LocalRateLimiter limiter = new LocalRateLimiter(now::get);
  final Admit stage = new Admit(limiter);

  ProxyExchange request(int rpm, Integer tpm) {
    ProxyExchange ex = Stages.exchange(Operation.CHAT);
    ex.key = Stages.key(7, rpm, tpm, null);
    return ex;
  }

  @Test
  void requestsPerMinuteRunOutThenComeBack() {
    assertThat(stage.apply(request(2, null)).succeeded()).isTrue();
    assertThat(stage.apply(request(2, null)).succeeded()).isTrue();
    IngressFailure refused = (IngressFailure) stage.apply(request(2, null)).cause();
    assertThat(refused.status()).isEqualTo(429);
    assertThat(refused.getMessage()).contains("requests per minute");
    assertThat(refused.retryAfterSeconds()).isEqualTo(30);
    now.addAndGet(30_000);
    assertThat(stage.apply(request(2, null)).succeeded()).isTrue();
  }

  @Test
  void tokensChargedAfterAnswersCloseTheKeyUntilTheyRefill() {
    assertThat(stage.apply(request(100, 1000)).succeeded()).isTrue();
    limiter.chargeTokens(7, 1000, 1000);
    IngressFailure refused = (IngressFailure) stage.apply(request(100, 1000)).cause();
    assertThat(refused.getMessage()).contains("tokens per minute");
  }

  @Test
  void aLimiterThatIsDownAndFailsClosedAnswers503() {
    RateLimiter down = new RateLimiter() {
      @Override
      public Future<LimitDecision> acquire(long keyId, int rpm, int tpm) {
        return Future.succeededFuture(LimitDecision.UNAVAILABLE);
      }

      @Override
      public void chargeTokens(long keyId, int tpm, int tokens) {
      }
    };
    IngressFailure f = (IngressFailure) new Admit(down).apply(request(100, null)).cause();
    assertThat(f.status()).isEqualTo(503);
    assertThat(f.code()).isEqualTo("rate_limiter_unavailable");
  }

  @Test
  void maxTokensAreReservedAtAdmissionAndSettledWithTheRealUsage() {
    Admit reserving = new Admit(limiter, 300);
    ProxyExchange first = request(100, 1000);
    first.parsed = new ParsedRequest(null, false, false, null, null, null, 600, false);
    assertThat(reserving.apply(first).succeeded()).isTrue();
    assertThat(first.reservedTokens).isEqualTo(600);
    ProxyExchange second = request(100, 1000);
    second.parsed = new ParsedRequest(null, false, false, null, null, null, -1, false);
    assertThat(reserving.apply(second).succeeded()).as("400 tokens left").isTrue();
    assertThat(second.reservedTokens).as("no max_tokens: the configured estimate").isEqualTo(300);
    ProxyExchange third = request(100, 1000);
    third.parsed = second.parsed;
    assertThat(reserving.apply(third).succeeded()).as("100 tokens left").isTrue();
    ProxyExchange fourth = request(100, 1000);
    fourth.parsed = second.parsed;
    IngressFailure refused = (IngressFailure) reserving.apply(fourth).cause();
    assertThat(refused.getMessage()).as("three requests in flight hold the whole minute").contains("tokens per minute");
    // they end having used 10 tokens each: the rest of the reservations goes back (what Finish does)
    limiter.chargeTokens(7, 1000, 10 - 600);
    limiter.chargeTokens(7, 1000, 10 - 300);
    limiter.chargeTokens(7, 1000, 10 - 300);
    assertThat(reserving.apply(fourth).succeeded()).isTrue();
  }

  @Test
  void keysWithoutATokenLimitReserveNothing() {
    Admit reserving = new Admit(limiter, 300);
    ProxyExchange ex = request(100, null);
    ex.parsed = new ParsedRequest(null, false, false, null, null, null, 600, false);
    assertThat(reserving.apply(ex).succeeded()).isTrue();
    assertThat(ex.reservedTokens).isZero();
  }
}
