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
}
