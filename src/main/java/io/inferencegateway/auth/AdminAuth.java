package io.inferencegateway.auth;

/**
 * Recognises the admin API key. Only its SHA-256 is held; comparison is in constant time.
 * (Console session tokens are checked by the admin API's own handler.)
 */
public final class AdminAuth {

  private final String adminKeyHash;

  public AdminAuth(String adminKeyHash) {
    this.adminKeyHash = adminKeyHash;
  }

  /** True if the bearer token is the admin key. */
  public boolean isAdminKey(String token) {
    String expected = adminKeyHash;
    return token != null && expected != null && ApiKeys.constantTimeEquals(ApiKeys.sha256Hex(token), expected);
  }
}
