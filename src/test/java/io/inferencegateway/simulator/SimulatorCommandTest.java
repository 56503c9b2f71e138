package io.inferencegateway.simulator;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class SimulatorCommandTest {

  @Test
  void helpPrintsUsageAndReturnsZero() {
    String out = captureOut(() -> assertThat(SimulatorCommand.run(new String[] {"--help"})).isZero());
    assertThat(out).contains("--port").contains("--models").contains("--drop-rate").contains("--engine")
        .contains("faithful").contains("--kv-cache-tokens").contains("continue_final_message")
        .contains("Tokens are approximated by words");
  }

  @Test
  void badArgumentsReturnTwo() {
    String err = captureErr(() -> {
      assertThat(SimulatorCommand.run(new String[] {"--bogus", "1"})).isEqualTo(2);
      assertThat(SimulatorCommand.run(new String[] {"--port", "abc"})).isEqualTo(2);
      assertThat(SimulatorCommand.run(new String[] {"--port"})).isEqualTo(2);
      assertThat(SimulatorCommand.run(new String[] {"--error-rate", "2"})).isEqualTo(2);
      assertThat(SimulatorCommand.run(new String[] {"--tokens", "0"})).isEqualTo(2);
      assertThat(SimulatorCommand.run(new String[] {"stray"})).isEqualTo(2);
      assertThat(SimulatorCommand.run(new String[] {"--engine", "warp"})).isEqualTo(2);
      assertThat(SimulatorCommand.run(new String[] {"--engine", "faithful", "--kv-cache-tokens", "100"})).isEqualTo(2);
    });
    assertThat(err).contains("unknown option --bogus").contains("--port needs an integer");
  }

  @Test
  void optionsMapToSettings() {
    SimulatorCommand.Options o = SimulatorCommand.parse(new String[] {
        "--port", "9001", "--models", "a, b", "--tokens=5", "--ttft-ms", "10", "--itl-ms", "2",
        "--error-rate", "0.1", "--hang-rate", "0.2", "--drop-rate", "0.3", "--slow-start-ms", "4",
        "--max-num-seqs", "8"});
    assertThat(o.port()).isEqualTo(9001);
    SimulatorSettings s = o.settings();
    assertThat(s.models()).containsExactly("a", "b");
    assertThat(s.tokensPerAnswer()).isEqualTo(5);
    assertThat(s.timeToFirstTokenMs()).isEqualTo(10);
    assertThat(s.interTokenMs()).isEqualTo(2);
    assertThat(s.errorRate()).isEqualTo(0.1);
    assertThat(s.hangRate()).isEqualTo(0.2);
    assertThat(s.dropMidStreamRate()).isEqualTo(0.3);
    assertThat(s.slowStartMs()).isEqualTo(4);
    assertThat(s.maxNumSeqs()).isEqualTo(8);
    assertThat(SimulatorCommand.parse(new String[0]).settings().models())
        .isEqualTo(SimulatorSettings.PRESET_MODELS);
    assertThat(SimulatorCommand.parse(new String[0]).port()).isEqualTo(8000);
    assertThat(SimulatorCommand.parse(new String[0]).apiKey()).isNull();
    SimulatorCommand.Options keyed = SimulatorCommand.parse(new String[] {"--api-key", "rk-sim-key-0123"});
    assertThat(keyed.apiKey()).isEqualTo("rk-sim-key-0123");
    assertThat(keyed.toString()).doesNotContain("rk-sim-key");
    assertThat(SimulatorCommand.parse(new String[] {"--api-key=rk-x-0123"}).apiKey()).isEqualTo("rk-x-0123");

    SimulatorSettings f = SimulatorCommand.parse(new String[] {"--engine", "faithful", "--kv-cache-tokens", "32768",
        "--max-num-batched-tokens=512", "--step-base-ms", "5", "--step-per-seq-ms", "0.5",
        "--prefill-per-token-ms", "0.02"}).settings();
    assertThat(f.faithful()).isTrue();
    assertThat(f.kvCacheTokens()).isEqualTo(32768);
    assertThat(f.maxNumBatchedTokens()).isEqualTo(512);
    assertThat(f.stepBaseMs()).isEqualTo(5.0);
    assertThat(f.stepPerSeqMs()).isEqualTo(0.5);
    assertThat(f.prefillPerTokenMs()).isEqualTo(0.02);
  }

  private static String captureOut(Runnable r) {
    PrintStream old = System.out;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    try {
      r.run();
    } finally {
      System.setOut(old);
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }

  private static String captureErr(Runnable r) {
    PrintStream old = System.err;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    try {
      r.run();
    } finally {
      System.setErr(old);
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }
}
