package io.inferencegateway.store;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Encrypts the secrets the database holds (replica API keys) with AES-256-GCM. A sealed value reads
 * {@code v1:<key id>:<base64 of 12-byte nonce + ciphertext + tag>}; the key id (8 hex digits of the key's SHA-256)
 * tells which key sealed it, so that after a rotation the previous key still opens old values until they are
 * re-sealed ({@link ModelStore#reseal}). The AES key is the SHA-256 of the configured key text, so any long random
 * string serves ({@code openssl rand -base64 32}).
 */
public final class SecretBox {

  private static final String VERSION = "v1";
  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;
  private static final SecureRandom RANDOM = new SecureRandom();

  private record Key(String id, SecretKeySpec spec) {}

  private final Key current;
  private final Key previous;

  private SecretBox(Key current, Key previous) {
    this.current = current;
    this.previous = previous;
  }

  /** A box sealing with {@code key} and also opening what {@code previousKey} (may be null) sealed. */
  public static SecretBox of(String key, String previousKey) {
    if (key == null || key.isEmpty()) {
      throw new IllegalArgumentException("the secrets key is empty");
    }
    return new SecretBox(key(key), previousKey == null || previousKey.isEmpty() ? null : key(previousKey));
  }

  private static Key key(String material) {
    try {
      byte[] aes = MessageDigest.getInstance("SHA-256")
          .digest(("inference-gateway secrets " + VERSION + "\0" + material).getBytes(StandardCharsets.UTF_8));
      String id = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(aes)).substring(0, 8);
      return new Key(id, new SecretKeySpec(aes, "AES"));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The id of the key new values are sealed with. */
  public String keyId() {
    return current.id();
  }

  /** Encrypts {@code plaintext} (null stays null). */
  public String seal(String plaintext) {
    if (plaintext == null) {
      return null;
    }
    try {
      byte[] nonce = new byte[NONCE_BYTES];
      RANDOM.nextBytes(nonce);
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, current.spec(), new GCMParameterSpec(TAG_BITS, nonce));
      cipher.updateAAD((VERSION + ":" + current.id()).getBytes(StandardCharsets.US_ASCII));
      byte[] sealed = cipher.doFinal(plaintext.getBytes(StandardCharsets.UTF_8));
      byte[] out = new byte[NONCE_BYTES + sealed.length];
      System.arraycopy(nonce, 0, out, 0, NONCE_BYTES);
      System.arraycopy(sealed, 0, out, NONCE_BYTES, sealed.length);
      return VERSION + ":" + current.id() + ":" + Base64.getEncoder().encodeToString(out);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("encryption failed", e);
    }
  }

  /**
   * Decrypts a value {@link #seal} made with the current or the previous key (null stays null).
   *
   * @throws IllegalStateException if neither key sealed it, or it was altered (the message names no secret)
   */
  public String open(String sealed) {
    if (sealed == null) {
      return null;
    }
    String[] parts = sealed.split(":", 3);
    if (parts.length != 3 || !VERSION.equals(parts[0])) {
      throw new IllegalStateException("not a sealed secret");
    }
    Key key = current.id().equals(parts[1]) ? current : previous != null && previous.id().equals(parts[1]) ? previous
        : null;
    if (key == null) {
      throw new IllegalStateException("sealed with key " + parts[1] + ", which is neither SECRETS_KEY ("
          + current.id() + ") nor SECRETS_KEY_PREVIOUS" + (previous == null ? " (unset)" : " (" + previous.id() + ")"));
    }
    try {
      byte[] in = Base64.getDecoder().decode(parts[2]);
      if (in.length < NONCE_BYTES + TAG_BITS / 8) {
        throw new IllegalStateException("sealed secret is truncated");
      }
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.DECRYPT_MODE, key.spec(), new GCMParameterSpec(TAG_BITS, in, 0, NONCE_BYTES));
      cipher.updateAAD((VERSION + ":" + key.id()).getBytes(StandardCharsets.US_ASCII));
      return new String(cipher.doFinal(in, NONCE_BYTES, in.length - NONCE_BYTES), StandardCharsets.UTF_8);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new IllegalStateException("sealed secret does not decrypt with key " + key.id() + " (altered?)");
    }
  }

  /** Whether {@code sealed} was sealed with the current key (else it is due for re-sealing). */
  public boolean sealedWithCurrentKey(String sealed) {
    return sealed != null && sealed.startsWith(VERSION + ":" + current.id() + ":");
  }
}
