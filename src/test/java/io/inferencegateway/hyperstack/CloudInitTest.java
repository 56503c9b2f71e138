package io.inferencegateway.hyperstack;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

import static io.inferencegateway.support.Tools.onPath;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The replica VM's cloud-config: Docker and the NVIDIA toolkit first (the same script Terraform uses), then the run
 * command in a systemd unit. Where Python with PyYAML is installed, the output is also parsed as YAML and the files
 * compared byte for byte.
 */
class CloudInitTest {

  static final String RUN = """
      docker run -d --gpus all --ipc=host -p 8000:8000 \\
        -e HF_TOKEN="$(cat /root/hf-token)" -v /ephemeral/hug:/root/.cache/huggingface \\
        vllm/vllm-openai:latest --model NousResearch/Meta-Llama-3.1-8B-Instruct --max-model-len 8192 'quoted: yes'
      """;

  @Test
  void installsDockerAndTheNvidiaToolkitThenRunsTheCommandAsAUnit() throws Exception {
    String userData = CloudInit.render(RUN, "Replica 7 of NousResearch/Meta-Llama-3.1-8B-Instruct");
    assertThat(userData).startsWith("#cloud-config\n");
    String terraformScript = Files.readString(Path.of("terraform/modules/cloud-init/files/ensure-gpu-docker.sh"));
    for (String line : terraformScript.split("\n")) {
      if (!line.isBlank()) {
        assertThat(userData).as("the Terraform script, line by line").contains("      " + line + "\n");
      }
    }
    assertThat(userData)
        .contains("      vllm/vllm-openai:latest --model NousResearch/Meta-Llama-3.1-8B-Instruct --max-model-len 8192"
            + " 'quoted: yes'\n")
        .contains("ExecStart=" + CloudInit.RUN_SCRIPT)
        .contains("  - [" + CloudInit.ENSURE_SCRIPT + "]\n")
        .contains("  - [systemctl, start, --no-block, " + CloudInit.UNIT + "]\n");
    assertThat(userData.indexOf("- [" + CloudInit.ENSURE_SCRIPT)).isLessThan(userData.indexOf("start, --no-block"));
    assertParsesTo(userData, RUN.strip());
  }

  @Test
  void contentAYamlBlockCannotHoldIsShippedAsBase64() throws Exception {
    String odd = "echo \u0007bell\r\nprintf 'x'";
    String userData = CloudInit.render(odd, "odd");
    assertThat(userData).contains("encoding: b64");
    String b64 = userData.lines().filter(l -> l.startsWith("    content: ") && !l.endsWith("|"))
        .findFirst().orElseThrow().substring("    content: ".length());
    assertThat(new String(Base64.getDecoder().decode(b64), StandardCharsets.UTF_8))
        .endsWith("set -e\necho \u0007bell\nprintf 'x'\n");
    assertParsesTo(userData, "echo \u0007bell\nprintf 'x'");
  }

  @Test
  void aTitleCannotBreakOutOfItsComment() {
    String userData = CloudInit.render("true", "evil\nruncmd: [rm, -rf, /]");
    assertThat(userData.lines().filter(l -> l.startsWith("runcmd:"))).hasSize(1);
  }

  @Test
  void lineSeparatorsThatYamlTakesForLineBreaksAreShippedAsBase64() throws Exception {
    for (String odd : new String[] {"echo a\u2028b", "echo a\u2029b", "echo a\u0085b"}) {
      String userData = CloudInit.render(odd, "title\u2028runcmd: [reboot]");
      assertThat(userData).as(odd).contains("encoding: b64").doesNotContain("\u2028").doesNotContain("\u2029");
      assertThat(CloudInit.blockSafe(odd)).isFalse();
      assertParsesTo(userData, odd);
    }
  }

  @Test
  void aReplicaKeyGoesToARootOnlyFileAndReachesTheContainerByName() throws Exception {
    String key = "rk-" + "k".repeat(43);
    String userData = CloudInit.render(RUN, "Replica 8", key);
    assertThat(userData).contains("  - path: " + CloudInit.KEY_FILE + "\n    owner: root:root\n    permissions: '0600'\n"
        + "    content: |\n      VLLM_API_KEY=" + key + "\n");
    assertThat(userData.indexOf(key)).as("the key is in that file only").isEqualTo(userData.lastIndexOf(key));
    assertThat(userData).contains("      docker run --env VLLM_API_KEY -d --gpus all");
    String expected = "# vLLM's --api-key, as VLLM_API_KEY (only the gateway holds it)\nset -a\n. " + CloudInit.KEY_FILE
        + "\nset +a\n" + RUN.strip().replaceFirst("docker run", "docker run --env VLLM_API_KEY");
    assertParsesTo(userData, expected);

    String own = "vllm serve m --api-key rk-my-own-key-1";
    assertThat(CloudInit.render(own, "own", "rk-my-own-key-1")).as("a command with its own key is left alone")
        .doesNotContain(CloudInit.KEY_FILE);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> CloudInit.render(RUN, "t", "bad key; rm -rf /"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageNotContaining("rm -rf");
  }

  /** Parses the cloud-config with PyYAML (if present) and checks the run script's body. */
  private static void assertParsesTo(String userData, String command) throws Exception {
    if (!onPath("python3")) {
      Assumptions.abort("python3 not installed: YAML parse check skipped");
    }
    Path file = Files.createTempFile("cloud-config", ".yaml");
    Files.writeString(file, userData);
    String script = """
        import base64, sys, yaml
        doc = yaml.safe_load(open(sys.argv[1]))
        for f in doc["write_files"]:
            if f["path"] == sys.argv[2]:
                c = f["content"]
                if f.get("encoding") == "b64":
                    c = base64.b64decode(c).decode()
                sys.stdout.write(c)
        """;
    Process p = new ProcessBuilder("python3", "-c", script, file.toString(), CloudInit.RUN_SCRIPT)
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    if (p.exitValue() != 0 && out.contains("No module named 'yaml'")) {
      Assumptions.abort("PyYAML not installed: YAML parse check skipped");
    }
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).isEqualTo("#!/bin/bash\n# The replica's run command, as given to the inference gateway.\nset -e\n"
        + command + "\n");
  }
}
