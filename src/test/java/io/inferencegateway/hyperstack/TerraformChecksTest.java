package io.inferencegateway.hyperstack;

import io.inferencegateway.support.TestServices;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static io.inferencegateway.support.Tools.onPath;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs {@code terraform/check.sh} (fmt, cloud-init tests, script tests, the HCL schema check, the stand-in run) as part
 * of the test suite, so the README's one test command covers the Terraform modules too, and checks that the wiring
 * checks (replica keys, firewall, TLS, cluster membership through Redis) really ran. It needs Node.js; Terraform
 * itself is optional (the script says so loudly and still runs the parser check). Without Node it skips, except in CI
 * where it fails.
 */
class TerraformChecksTest {

  @Test
  void terraformModulesPassTheirOfflineChecks() throws Exception {
    boolean node = onPath("node") && onPath("npm");
    if (!node) {
      if (TestServices.ci()) {
        throw new AssertionError("CI=true and Node.js/npm are missing: the Terraform schema check cannot run");
      }
      Assumptions.abort("skipped: Node.js/npm not installed (needed by terraform/check.sh)");
    }
    Path script = Path.of("terraform", "check.sh").toAbsolutePath();
    Process p = new ProcessBuilder("bash", script.toString()).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    boolean done = p.waitFor(10, TimeUnit.MINUTES);
    String text = new String(out, StandardCharsets.UTF_8);
    System.out.println(text);
    assertThat(done).isTrue();
    assertThat(p.exitValue()).as("terraform/check.sh output:\n" + text).isZero();
    // The script passing is not enough: the checks of the security and cluster wiring must have run, not been skipped.
    assertThat(text).as("node tests of the schema check and the gateway's scripts").contains("# fail 0");
    if (onPath("terraform")) {
      assertThat(text).contains(
          "vLLM open to the gateway's private address only",
          "a renewed certificate replaces nothing",
          "gateway_count = 3 makes a cluster on a data VM",
          "--> ok: rendered systemd units");
      if (TestServices.ci() || (onPath("redis-server") && onPath("redis-cli"))) {
        assertThat(text).contains("3 gateways registered through Redis, each with its own CLUSTER_HOST",
                "ok 1 - each member advertises its own address and lists the members registered before it\n")
            .doesNotContain("SKIPPED the cluster membership run");
      }
    }
  }
}
