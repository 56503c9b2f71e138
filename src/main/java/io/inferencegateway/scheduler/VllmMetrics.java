package io.inferencegateway.scheduler;

import io.inferencegateway.routing.LoadReport;

/**
 * Reads the load figures the router needs from vLLM's Prometheus text: requests running and waiting, and KV-cache use
 * under either name vLLM has used ({@code vllm:kv_cache_usage_perc}, formerly {@code vllm:gpu_cache_usage_perc}).
 * Series of several label sets (e.g. one per engine) are summed; cache use takes the largest.
 */
public final class VllmMetrics {

  private VllmMetrics() {}

  /** The load report, or null if the text has none of the running/waiting series (not a vLLM server). */
  public static LoadReport parse(String text, long nowMs) {
    double running = 0;
    double waiting = 0;
    double kv = 0;
    boolean found = false;
    int start = 0;
    int len = text.length();
    while (start < len) {
      int end = text.indexOf('\n', start);
      if (end < 0) {
        end = len;
      }
      if (text.startsWith("vllm:", start)) {
        String line = text.substring(start, end).trim();
        double value = value(line);
        if (!Double.isNaN(value)) {
          if (is(line, "vllm:num_requests_running")) {
            running += value;
            found = true;
          } else if (is(line, "vllm:num_requests_waiting")) {
            waiting += value;
            found = true;
          } else if (is(line, "vllm:kv_cache_usage_perc") || is(line, "vllm:gpu_cache_usage_perc")) {
            kv = Math.max(kv, value);
          }
        }
      }
      start = end + 1;
    }
    return found ? new LoadReport(running, waiting, kv, nowMs) : null;
  }

  private static boolean is(String line, String name) {
    return line.startsWith(name) && line.length() > name.length()
        && (line.charAt(name.length()) == '{' || line.charAt(name.length()) == ' ');
  }

  /** The sample value: the token after the metric name and labels (a timestamp may follow). */
  private static double value(String line) {
    int close = line.lastIndexOf('}');
    String rest = (close >= 0 ? line.substring(close + 1) : line.substring(line.indexOf(' ') + 1)).trim();
    int space = rest.indexOf(' ');
    if (space > 0) {
      rest = rest.substring(0, space);
    }
    try {
      return Double.parseDouble(rest);
    } catch (NumberFormatException e) {
      return Double.NaN;
    }
  }
}
