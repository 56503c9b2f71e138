package io.inferencegateway.hyperstack;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * API keys of replicas (vLLM's {@code --api-key}): generated for VMs the gateway creates; found in a run command that
 * already sets one; masked wherever a run command is shown.
 */
public final class ReplicaKeys {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9._~+/=-]{8,256}");
  private static final String VALUE = "(\"[^\"]*\"|'[^']*'|[^\\s\"']+)";
  /** {@code --api-key KEY} or {@code --api-key=KEY}. */
  private static final Pattern API_KEY_FLAG = Pattern.compile("(--api-key)(=|\\s+)" + VALUE);
  /** {@code VLLM_API_KEY=KEY} (also inside {@code -e}/{@code --env}). */
  private static final Pattern API_KEY_ENV = Pattern.compile("\\b(VLLM_API_KEY)=" + VALUE);
  /** Environment assignments whose name says secret: {@code HF_TOKEN=...}, {@code AWS_SECRET_ACCESS_KEY=...}. */
  private static final Pattern SECRET_ENV = Pattern.compile(
      "(?i)\\b([A-Z0-9_]*(?:TOKEN|KEY|SECRET|PASSWORD|PASSWD|CREDENTIALS?)[A-Z0-9_]*)=" + VALUE);
  /** Flags whose value is a secret: {@code --api-key X}, {@code --hf-token X}, {@code --token=X}, ... */
  private static final Pattern SECRET_FLAG = Pattern.compile(
      "(?i)(--(?:api-key|hf-token|token|password|secret|access-key|secret-key))(=|\\s+)" + VALUE);
  /** {@code Authorization: Bearer X} in a curl or wget line. */
  private static final Pattern BEARER = Pattern.compile("(?i)(bearer\\s+)([^\\s\"']+)");
  static final String MASK = "***";

  private ReplicaKeys() {}

  /** A new random key (256 bits). */
  public static String generate() {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    return "rk-" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /** Whether the key can go into an environment file as it is (and is not absurdly short or long). */
  public static boolean safe(String key) {
    return key != null && SAFE.matcher(key).matches();
  }

  /** The key a run command already gives vLLM ({@code --api-key} or {@code VLLM_API_KEY=}), or null. */
  public static String fromRunCommand(String runCommand) {
    if (runCommand == null) {
      return null;
    }
    Matcher m = API_KEY_FLAG.matcher(runCommand);
    if (m.find()) {
      return unquote(m.group(3));
    }
    m = API_KEY_ENV.matcher(runCommand);
    return m.find() ? unquote(m.group(2)) : null;
  }

  /**
   * The run command with its secrets replaced by {@value #MASK}: values of secret-looking environment assignments
   * ({@code HF_TOKEN=...}), of secret flags ({@code --api-key ...}, {@code --hf-token ...}) and bearer tokens.
   */
  public static String mask(String runCommand) {
    if (runCommand == null) {
      return null;
    }
    String out = SECRET_ENV.matcher(runCommand).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + "=" + MASK));
    out = SECRET_FLAG.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + m.group(2) + MASK));
    return BEARER.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + MASK));
  }

  private static String unquote(String v) {
    if (v.length() >= 2 && (v.startsWith("\"") && v.endsWith("\"") || v.startsWith("'") && v.endsWith("'"))) {
      return v.substring(1, v.length() - 1);
    }
    return v;
  }
}
