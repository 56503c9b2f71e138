package io.inferencegateway.scheduler;

import io.inferencegateway.support.Poll;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@ExtendWith(VertxExtension.class)
class CronScheduleTest {

  private static CronSchedule cron(String e) {
    return CronSchedule.parse("backup.schedule", e).orElseThrow();
  }

  private static Instant t(String s) {
    return Instant.parse(s);
  }

  @Test
  void dailyAtThreeUtc() {
    CronSchedule daily = cron("0 3 * * *");
    assertThat(daily.next(t("2026-12-02T02:59:59Z"))).contains(t("2026-12-02T03:00:00Z"));
    assertThat(daily.next(t("2026-12-02T03:00:00Z"))).as("strictly after").contains(t("2026-12-03T03:00:00Z"));
    assertThat(daily.next(t("2026-12-31T03:00:01Z"))).contains(t("2027-01-01T03:00:00Z"));
  }

  @Test
  void stepsRangesListsAndCalendarRules() {
    assertThat(cron("*/15 * * * *").next(t("2026-12-02T10:07:00Z"))).contains(t("2026-12-02T10:15:00Z"));
    assertThat(cron("0 9-17/4 * * *").next(t("2026-12-02T13:00:00Z"))).contains(t("2026-12-02T17:00:00Z"));
    assertThat(cron("30 2 * * 0").next(t("2026-12-02T00:00:00Z"))).as("next Sunday")
        .contains(t("2026-12-06T02:30:00Z"));
    assertThat(cron("0 0 29 2 *").next(t("2026-03-01T00:00:00Z"))).as("leap day").contains(t("2028-02-29T00:00:00Z"));
    assertThat(cron("0 0 31 * *").next(t("2026-11-15T00:00:00Z"))).as("November has no 31st")
        .contains(t("2026-12-31T00:00:00Z"));
    assertThat(cron("  0   3 * *  * ").expression()).isEqualTo("0 3 * * *");
  }

  @Test
  void offMeansNoSchedule() {
    assertThat(CronSchedule.parse("backup.schedule", "off")).isEmpty();
    assertThat(CronSchedule.parse("backup.schedule", "OFF")).isEmpty();
    assertThat(CronSchedule.parse("backup.schedule", "")).isEmpty();
    assertThat(CronSchedule.parse("backup.schedule", null)).isEmpty();
  }

  @Test
  void invalidExpressionsAreRefusedWithTheSettingName() {
    for (String bad : List.of("0 3 * *", "0 0 3 * * *", "61 * * * *", "0 25 * * *", "every day", "0 3 * * mon-xyz")) {
      assertThatThrownBy(() -> CronSchedule.parse("backup.schedule", bad)).as(bad)
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("backup.schedule");
    }
  }

  @Test
  void theTimerRunsTheJobAtTheScheduledTimeThenWaitsForTheNext(Vertx vertx) throws InterruptedException {
    Instant slot = Instant.now().plusSeconds(86_400).truncatedTo(java.time.temporal.ChronoUnit.DAYS).plusSeconds(3 * 3600);
    // a clock 300 ms before the daily slot: the job must run once, for that slot, then wait a day
    Clock clock = Clock.offset(Clock.systemUTC(), Duration.between(Instant.now(), slot.minusMillis(300)));
    List<Instant> runs = new CopyOnWriteArrayList<>();
    CronTimer timer = new CronTimer(vertx, cron("0 3 * * *"), clock, runs::add);
    vertx.runOnContext(v -> timer.start());
    Poll.until("the timer fires", Duration.ofSeconds(10), () -> !runs.isEmpty());
    assertThat(runs).containsExactly(slot);
    assertThat(timer.nextRun()).isEqualTo(slot.plus(Duration.ofDays(1)));
    Thread.sleep(500);
    assertThat(runs).hasSize(1);
    vertx.runOnContext(v -> timer.stop());
  }
}
