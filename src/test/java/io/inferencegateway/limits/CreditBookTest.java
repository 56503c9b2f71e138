package io.inferencegateway.limits;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The bookkeeping of prefetched credit, without Redis: sizes, top-ups, and every way credit goes back. */
class CreditBookTest {

  final CreditBook book = new CreditBook(0.01, 1000);

  @Test
  void creditIsOnePercentOfTheLimitCappedAndNoneForSmallLimits() {
    assertThat(book.size(10_000)).isEqualTo(100);
    assertThat(book.size(1_000_000_000)).isEqualTo(CreditBook.MAX_CREDIT);
    assertThat(book.size(199)).isZero(); // a credit of 1 would save nothing: checked one by one
    assertThat(book.size(200)).isEqualTo(2);
    assertThat(new CreditBook(0, 1000).size(1_000_000_000)).isZero();
  }

  @Test
  void aKeyWithoutCreditAsksForAFullOneAndSpendsItUntilATopUpIsDue() {
    assertThat(book.spend(1, 10_000, 0, 0)).isEqualTo(CreditBook.Spend.NONE);
    assertThat(book.wanted(1, 10_000, 0, 0)).as("first check: no credit").isZero();
    assertThat(book.wanted(1, 10_000, 0, 0)).as("second check: a full credit").isEqualTo(100);
    book.granted(1, 10_000, 0, 100, false, 0);
    for (int i = 0; i < 49; i++) {
      assertThat(book.spend(1, 10_000, 0, 10)).isEqualTo(CreditBook.Spend.SPENT);
    }
    assertThat(book.spend(1, 10_000, 0, 10)).isEqualTo(CreditBook.Spend.SPENT_TOP_UP); // half spent
    assertThat(book.spend(1, 10_000, 0, 10)).isEqualTo(CreditBook.Spend.SPENT); // one top-up at a time
    assertThat(book.wanted(1, 10_000, 0, 10)).isEqualTo(51);
    book.granted(1, 10_000, 0, 51, false, 20);
    assertThat(book.left(1)).isEqualTo(100);
    assertThat(book.takeRefunds()).isEmpty();
  }

  @Test
  void aKeyCheckedLessThanOnceInItsCreditLifetimeNeverTakesCredit() {
    assertThat(book.wanted(1, 10_000, 0, 0)).isZero();
    book.granted(1, 10_000, 0, 0, false, 0);
    book.expire(1000, false);
    assertThat(book.wanted(1, 10_000, 0, 1200)).isZero();
    book.granted(1, 10_000, 0, 0, false, 1200);
    assertThat(book.wanted(1, 10_000, 0, 1500)).as("seen again within its lifetime").isEqualTo(100);
    assertThat(book.takeRefunds()).isEmpty();
  }

  @Test
  void aFailedTopUpIsAskedForAgainByTheNextRequest() {
    book.granted(1, 10_000, 0, 51, false, 0);
    assertThat(book.spend(1, 10_000, 0, 1)).isEqualTo(CreditBook.Spend.SPENT_TOP_UP);
    assertThat(book.spend(1, 10_000, 0, 1)).isEqualTo(CreditBook.Spend.SPENT);
    book.topUpFailed(1);
    assertThat(book.spend(1, 10_000, 0, 1)).isEqualTo(CreditBook.Spend.SPENT_TOP_UP);
  }

  @Test
  void creditNotToppedUpForItsLifetimeGoesBack() {
    book.granted(1, 10_000, 0, 100, false, 0);
    book.spend(1, 10_000, 0, 500);
    book.expire(999, false);
    assertThat(book.left(1)).isEqualTo(99);
    book.expire(1000, false);
    assertThat(book.left(1)).isZero();
    assertThat(book.spend(1, 10_000, 0, 1000)).isEqualTo(CreditBook.Spend.NONE);
    Map<Long, int[]> refunds = book.takeRefunds();
    assertThat(refunds).containsOnlyKeys(1L);
    assertThat(refunds.get(1L)).containsExactly(10_000, 99);
    assertThat(book.takeRefunds()).isEmpty(); // given back once
  }

  @Test
  void creditWaitingForATopUpIsNotExpiredUnderIt() {
    book.granted(1, 10_000, 0, 51, false, 0);
    assertThat(book.spend(1, 10_000, 0, 1)).isEqualTo(CreditBook.Spend.SPENT_TOP_UP);
    book.expire(5000, false);
    assertThat(book.left(1)).isEqualTo(50);
    book.expire(5000, true); // closing: everything goes back
    assertThat(book.takeRefunds().get(1L)).containsExactly(10_000, 50);
  }

  @Test
  void changedLimitsOrRunningOutOfTokensGiveTheOldCreditBack() {
    book.granted(1, 10_000, 0, 100, false, 0);
    assertThat(book.spend(1, 20_000, 0, 1)).isEqualTo(CreditBook.Spend.NONE); // new limit: credit not usable
    assertThat(book.wanted(1, 20_000, 0, 1)).isEqualTo(200);
    book.granted(1, 20_000, 0, 200, false, 2);
    assertThat(book.left(1)).isEqualTo(200);
    assertThat(book.takeRefunds().get(1L)).containsExactly(10_000, 100);

    book.granted(1, 20_000, 0, 0, true, 3); // a top-up found the key out of tokens
    assertThat(book.left(1)).isZero();
    assertThat(book.takeRefunds().get(1L)).containsExactly(20_000, 200);
  }
}
