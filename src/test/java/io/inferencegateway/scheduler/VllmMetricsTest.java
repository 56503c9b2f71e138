package io.inferencegateway.scheduler;

import io.inferencegateway.routing.LoadReport;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class VllmMetricsTest {

  @Test
  void readsRunningWaitingAndEitherCacheName() {
    String text = """
        # HELP vllm:num_requests_running Number of requests in model execution batches.
        # TYPE vllm:num_requests_running gauge
        vllm:num_requests_running{engine="0",model_name="m"} 3.0
        vllm:num_requests_running{engine="1",model_name="m"} 2.0
        vllm:num_requests_waiting{model_name="m"} 4.0
        vllm:gpu_cache_usage_perc{model_name="m"} 0.75
        vllm:num_requests_running_total 99
        vllm:prompt_tokens_total{model_name="m"} 1234.0
        """;
    LoadReport r = VllmMetrics.parse(text, 42);
    assertThat(r.running()).isEqualTo(5);
    assertThat(r.waiting()).isEqualTo(4);
    assertThat(r.kvCacheUsage()).isEqualTo(0.75);
    assertThat(r.scrapedAtMs()).isEqualTo(42);
    assertThat(VllmMetrics.parse("vllm:kv_cache_usage_perc 0.5\nvllm:num_requests_waiting 0 1700000000\n", 1)
        .kvCacheUsage()).isEqualTo(0.5);
  }

  @Test
  void textWithoutVllmSeriesGivesNothing() {
    assertThat(VllmMetrics.parse("# nothing\nprocess_cpu_seconds_total 3\n", 1)).isNull();
  }
}
