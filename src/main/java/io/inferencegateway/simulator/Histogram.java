package io.inferencegateway.simulator;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.DoubleAdder;

/** A Prometheus histogram in seconds, printed the way vLLM's Python client prints it. */
final class Histogram {

  /** vLLM's buckets for {@code vllm:time_to_first_token_seconds}. */
  static final double[] TTFT_BUCKETS = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0,
      2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0};
  /** vLLM's buckets for the request latency histograms ({@code vllm:e2e_request_latency_seconds}). */
  static final double[] LATENCY_BUCKETS = {0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0,
      50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0};

  private final double[] bounds;
  // counts[i]: observations in bucket i alone; the last slot is above every bound.
  private final AtomicLongArray counts;
  private final DoubleAdder sum = new DoubleAdder();

  Histogram(double[] bounds) {
    this.bounds = bounds;
    this.counts = new AtomicLongArray(bounds.length + 1);
  }

  void observe(double seconds) {
    int i = 0;
    while (i < bounds.length && seconds > bounds[i]) {
      i++;
    }
    counts.incrementAndGet(i);
    sum.add(seconds);
  }

  long count() {
    long n = 0;
    for (int i = 0; i < counts.length(); i++) {
      n += counts.get(i);
    }
    return n;
  }

  double sum() {
    return sum.sum();
  }

  /** The series lines (no HELP/TYPE) with {@code labels} such as {@code model_name="m"}. */
  void write(StringBuilder sb, String name, String labels) {
    long cumulative = 0;
    for (int i = 0; i <= bounds.length; i++) {
      cumulative += counts.get(i);
      sb.append(name).append("_bucket{").append(labels).append(",le=\"")
          .append(i < bounds.length ? Double.toString(bounds[i]) : "+Inf").append("\"} ")
          .append((double) cumulative).append('\n');
    }
    sb.append(name).append("_count{").append(labels).append("} ").append((double) cumulative).append('\n');
    sb.append(name).append("_sum{").append(labels).append("} ").append(sum()).append('\n');
  }
}
