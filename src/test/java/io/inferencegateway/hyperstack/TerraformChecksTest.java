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
 * Runs {@code terraform/check.sh} (fmt, cloud-init tests, the HCL schema check) as part of the test suite, so the
 * README's one test command covers the Terraform modules too. It needs Node.js; Terraform itself is optional (the
 * script says so loudly and still runs the parser check). Without Node it skips, except in CI where it fails.
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
  }
}
