package io.inferencegateway.metrics;

/**
 * The one percentile definition of usage statistics (the usage series and the hourly roll-ups use the same, so a
 * rolled-up hour shows the figures its raw rows showed): nearest rank, the smallest value with at least p of all
 * values at or below it.
 */
public final class Percentiles {

  private Percentiles() {}

  /** @param sorted ascending, not empty */
  public static double nearestRank(double[] sorted, double p) {
    int rank = (int) Math.ceil(p * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }
}
