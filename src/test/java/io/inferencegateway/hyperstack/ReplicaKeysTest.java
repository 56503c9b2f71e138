package io.inferencegateway.hyperstack;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Replica keys: generated, found in a run command, and masked wherever a run command is shown. */
class ReplicaKeysTest {

  @Test
  void secretsInARunCommandAreMasked() {
    String run = "docker run -e HF_TOKEN=hf_abcdefHIDDEN -e HUGGING_FACE_HUB_TOKEN=\"hf quoted HIDDEN\""
        + " --env AWS_SECRET_ACCESS_KEY='aws HIDDEN' -p 8000:8000 vllm/vllm-openai --model m"
        + " --api-key sk-vllmHIDDEN --hf-token=hfHIDDEN2 --max-num-batched-tokens 2048 --tokenizer t"
        + " && curl -H 'Authorization: Bearer tokHIDDEN' http://x";
    String masked = ReplicaKeys.mask(run);
    assertThat(masked).doesNotContain("HIDDEN")
        .contains("HF_TOKEN=***", "HUGGING_FACE_HUB_TOKEN=***", "AWS_SECRET_ACCESS_KEY=***", "--api-key ***",
            "--hf-token=***", "Bearer ***")
        .as("what is not secret stays readable")
        .contains("--model m", "--max-num-batched-tokens 2048", "--tokenizer t", "-p 8000:8000");
    assertThat(ReplicaKeys.mask("docker run vllm/vllm-openai")).isEqualTo("docker run vllm/vllm-openai");
    assertThat(ReplicaKeys.mask(null)).isNull();
  }

  @Test
  void aKeyTheRunCommandSetsIsFound() {
    assertThat(ReplicaKeys.fromRunCommand("vllm serve m --api-key rk-1234567890")).isEqualTo("rk-1234567890");
    assertThat(ReplicaKeys.fromRunCommand("vllm serve m --api-key='rk-1234567890'")).isEqualTo("rk-1234567890");
    assertThat(ReplicaKeys.fromRunCommand("docker run -e VLLM_API_KEY=rk-abcdefgh img")).isEqualTo("rk-abcdefgh");
    assertThat(ReplicaKeys.fromRunCommand("docker run img --model m")).isNull();
  }

  @Test
  void generatedKeysAreLongRandomAndSafeForAnEnvironmentFile() {
    String a = ReplicaKeys.generate();
    String b = ReplicaKeys.generate();
    assertThat(a).startsWith("rk-").hasSize(46).isNotEqualTo(b);
    assertThat(ReplicaKeys.safe(a)).isTrue();
    assertThat(ReplicaKeys.safe("short")).isFalse();
    assertThat(ReplicaKeys.safe("has space in it")).isFalse();
    assertThat(ReplicaKeys.safe("$(reboot)xxxx")).isFalse();
  }
}
