package io.inferencegateway.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/** Making API keys and comparing secrets. Keys are {@code sk-} plus 192 random bits; only their SHA-256 is stored. */
public final class ApiKeys {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final int RANDOM_BYTES = 24;
  private static final int PREFIX_LENGTH = 11; // "sk-" and 8 characters: enough to recognise a key, useless to guess it
  private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  });

  private ApiKeys() {}

  /** A new key: the plaintext (shown once), its hash (stored) and its display prefix (stored). */
  public record Generated(String plaintext, String hash, String prefix) {
    @Override
    public String toString() {
      return "Generated[prefix=" + prefix + "]";
    }
  }

  public static Generated generate() {
    byte[] bytes = new byte[RANDOM_BYTES];
    RANDOM.nextBytes(bytes);
    String key = "sk-" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    return new Generated(key, sha256Hex(key), prefixOf(key));
  }

  public static String prefixOf(String key) {
    return key.length() <= PREFIX_LENGTH ? key : key.substring(0, PREFIX_LENGTH);
  }

  public static String sha256Hex(String text) {
    MessageDigest md = SHA256.get();
    md.reset();
    return HexFormat.of().formatHex(md.digest(text.getBytes(StandardCharsets.UTF_8)));
  }

  /** Compares two secrets in time that does not depend on where they differ. */
  public static boolean constantTimeEquals(String a, String b) {
    if (a == null || b == null) {
      return false;
    }
    return MessageDigest.isEqual(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
  }

  /** Extracts the token of an {@code Authorization: Bearer <token>} header, or null. */
  public static String bearerToken(String authorization) {
    if (authorization == null || authorization.length() < 8) {
      return null;
    }
    if (!authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    String token = authorization.substring(7).trim();
    return token.isEmpty() ? null : token;
  }
}
