package io.inferencegateway.routing;

/**
 * What a vLLM server said about its load on {@code /metrics}: requests running and waiting, and KV-cache use (0..1).
 */
public record LoadReport(double running, double waiting, double kvCacheUsage, long scrapedAtMs) {

  public boolean freshAt(long nowMs, long staleMs) {
    return nowMs - scrapedAtMs <= staleMs;
  }
}
