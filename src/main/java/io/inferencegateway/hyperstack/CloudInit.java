package io.inferencegateway.hyperstack;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The {@code #cloud-config} user data of a replica VM: make sure Docker and the NVIDIA container toolkit are there
 * (the same {@code ensure-gpu-docker.sh} the Terraform modules use, bundled in the jar), then run the replica's
 * {@code run_command} (typically {@code docker run ... vllm/vllm-openai ...}) once as the systemd unit
 * {@code inference-replica.service}, so its output is in the journal and it runs again after a reboot.
 */
public final class CloudInit {

  static final String ENSURE_SCRIPT = "/usr/local/sbin/ensure-gpu-docker.sh";
  static final String RUN_SCRIPT = "/usr/local/sbin/inference-replica-run.sh";
  static final String UNIT = "inference-replica.service";
  /** The replica's API key as {@code VLLM_API_KEY=...}, root-only; the run script exports it. */
  static final String KEY_FILE = "/etc/inference-replica/vllm.env";
  private static final java.util.regex.Pattern CONTAINER_RUN =
      java.util.regex.Pattern.compile("\\b(docker|podman)(\\s+)run\\b");

  private static final String UNIT_FILE = """
      [Unit]
      Description=Inference replica started by the inference gateway (run command in %s)
      Wants=network-online.target
      After=network-online.target docker.service
      Requires=docker.service

      [Service]
      Type=simple
      # Pulling the image and loading the model can take a long time.
      TimeoutStartSec=0
      ExecStart=%s

      [Install]
      WantedBy=multi-user.target
      """.formatted(RUN_SCRIPT, RUN_SCRIPT);

  private static final String ENSURE = loadEnsureScript();

  private CloudInit() {}

  /** The user data for a VM that runs {@code runCommand}; {@code title} goes into a comment (e.g. the model). */
  public static String render(String runCommand, String title) {
    return render(runCommand, title, null);
  }

  /**
   * As {@link #render(String, String)}, with the replica's API key (null: none) for vLLM: written to
   * {@value #KEY_FILE} (0600) and exported as {@code VLLM_API_KEY}, which vLLM reads as its {@code --api-key}; a
   * {@code docker run} (or {@code podman run}) in the command gets {@code --env VLLM_API_KEY} so the container sees it.
   * The key never appears on a command line (process lists) or in the run script. A command that already sets a key
   * ({@link ReplicaKeys#fromRunCommand}) is left as it is.
   */
  public static String render(String runCommand, String title, String apiKey) {
    String command = runCommand.replace("\r\n", "\n").replace('\r', '\n').strip();
    boolean withKey = apiKey != null && ReplicaKeys.fromRunCommand(runCommand) == null;
    if (withKey) {
      if (!ReplicaKeys.safe(apiKey)) {
        throw new IllegalArgumentException("a replica API key must be 8 to 256 letters, digits or -._~+/=");
      }
      command = CONTAINER_RUN.matcher(command).replaceAll("$1$2run --env VLLM_API_KEY");
    }
    String run = "#!/bin/bash\n"
        + "# The replica's run command, as given to the inference gateway.\n"
        + "set -e\n"
        + (withKey ? "# vLLM's --api-key, as VLLM_API_KEY (only the gateway holds it)\nset -a\n. " + KEY_FILE
            + "\nset +a\n" : "")
        + command + "\n";
    StringBuilder y = new StringBuilder();
    y.append("#cloud-config\n");
    y.append("# ").append(oneLine(title)).append('\n');
    y.append("package_update: true\n");
    y.append("packages:\n  - ca-certificates\n  - curl\n  - gnupg\n");
    y.append("write_files:\n");
    file(y, ENSURE_SCRIPT, "0755", ENSURE);
    if (withKey) {
      file(y, KEY_FILE, "0600", "VLLM_API_KEY=" + apiKey + "\n");
    }
    file(y, RUN_SCRIPT, "0700", run);
    file(y, "/etc/systemd/system/" + UNIT, "0644", UNIT_FILE);
    y.append("runcmd:\n");
    y.append("  - [").append(ENSURE_SCRIPT).append("]\n");
    y.append("  - [systemctl, daemon-reload]\n");
    y.append("  - [systemctl, enable, ").append(UNIT).append("]\n");
    y.append("  - [systemctl, start, --no-block, ").append(UNIT).append("]\n");
    return y.toString();
  }

  private static void file(StringBuilder y, String path, String permissions, String content) {
    y.append("  - path: ").append(path).append('\n');
    y.append("    owner: root:root\n");
    y.append("    permissions: '").append(permissions).append("'\n");
    if (blockSafe(content)) {
      y.append("    content: |\n");
      for (String line : content.stripTrailing().split("\n", -1)) {
        if (!line.isBlank()) {
          y.append("      ").append(line);
        }
        y.append('\n');
      }
    } else {
      // Characters a YAML literal block cannot hold as they are: ship the bytes untouched.
      y.append("    encoding: b64\n");
      y.append("    content: ").append(Base64.getEncoder().encodeToString(content.getBytes(StandardCharsets.UTF_8)))
          .append('\n');
    }
  }

  /** Whether {@code content} can be written as a YAML literal block without escapes or an indentation indicator. */
  static boolean blockSafe(String content) {
    // A first line that starts with blanks would set a deeper indentation than the lines after it.
    if (content.isBlank() || content.charAt(0) == ' ' || content.charAt(0) == '\t' || content.charAt(0) == '\n') {
      return false;
    }
    for (int i = 0; i < content.length(); i++) {
      char c = content.charAt(i);
      // U+2028/U+2029 (and U+0085) are line breaks to a YAML 1.1 parser: a run command holding one would be cut
      boolean printable = c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f) || (c >= 0xa0 && c <= 0xd7ff
          && c != 0x2028 && c != 0x2029) || (c >= 0xe000 && c <= 0xfffd && c != 0xfeff) || Character.isSurrogate(c);
      if (!printable) {
        return false;
      }
    }
    return true;
  }

  private static String oneLine(String s) {
    return s == null ? "" : s.replaceAll("[\\p{Cntrl}\u0085\u2028\u2029]", " ");
  }

  private static String loadEnsureScript() {
    try (InputStream in = CloudInit.class.getResourceAsStream("/hyperstack/ensure-gpu-docker.sh")) {
      if (in == null) {
        throw new IllegalStateException("hyperstack/ensure-gpu-docker.sh is missing from the jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
