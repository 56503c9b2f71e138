package io.inferencegateway.scheduler;

import com.cronutils.model.Cron;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Optional;

/**
 * A standard five-field cron expression (minute hour day-of-month month day-of-week, as in crontab(5)), evaluated in
 * UTC. Parsing and the next-time arithmetic are cron-utils': month lengths, leap days, ranges, steps and the
 * day-of-month/day-of-week "or" rule are easy to get wrong by hand.
 */
public final class CronSchedule {

  private static final CronParser PARSER = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));

  private final String expression;
  private final ExecutionTime times;

  private CronSchedule(String expression, Cron cron) {
    this.expression = expression;
    this.times = ExecutionTime.forCron(cron);
  }

  /**
   * @param setting the name the expression came from, for the error message
   * @return empty for {@code null}, blank or {@code "off"} (no schedule)
   * @throws IllegalArgumentException if it is not a valid five-field expression
   */
  public static Optional<CronSchedule> parse(String setting, String expression) {
    if (expression == null || expression.isBlank() || expression.strip().equalsIgnoreCase("off")) {
      return Optional.empty();
    }
    String e = expression.strip().replaceAll("\\s+", " ");
    if (e.split(" ").length != 5) {
      throw new IllegalArgumentException(setting + " must be a five-field cron expression (minute hour day month"
          + " weekday, UTC), e.g. \"0 3 * * *\", or \"off\"; not \"" + expression + "\"");
    }
    try {
      return Optional.of(new CronSchedule(e, PARSER.parse(e).validate()));
    } catch (IllegalArgumentException ex) {
      throw new IllegalArgumentException(setting + " is not a valid cron expression (\"" + expression + "\"): "
          + ex.getMessage(), ex);
    }
  }

  /** The first time strictly after {@code after} that the schedule names (empty if none ever comes, e.g. Feb 30). */
  public Optional<Instant> next(Instant after) {
    return times.nextExecution(ZonedDateTime.ofInstant(after, ZoneOffset.UTC)).map(ZonedDateTime::toInstant);
  }

  public String expression() {
    return expression;
  }

  @Override
  public String toString() {
    return expression + " (UTC)";
  }
}
