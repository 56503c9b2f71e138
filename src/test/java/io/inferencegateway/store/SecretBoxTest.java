package io.inferencegateway.store;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Secrets at rest: AES-256-GCM with a key id, a previous key for rotations, tampering detected. */
class SecretBoxTest {

  @Test
  void sealsAndOpensWithoutTheSecretInTheSealedText() {
    SecretBox box = SecretBox.of("a-long-secrets-key-0123456789", null);
    String sealed = box.seal("rk-replica-key-value");
    assertThat(sealed).startsWith("v1:" + box.keyId() + ":").doesNotContain("rk-replica-key-value");
    assertThat(box.seal("rk-replica-key-value")).as("a fresh nonce each time").isNotEqualTo(sealed);
    assertThat(box.open(sealed)).isEqualTo("rk-replica-key-value");
    assertThat(box.seal(null)).isNull();
    assertThat(box.open(null)).isNull();
  }

  @Test
  void afterARotationThePreviousKeyStillOpensAndValuesAreDueForResealing() {
    SecretBox old = SecretBox.of("the-old-secrets-key-0123456789", null);
    String sealedOld = old.seal("rk-value");
    SecretBox rotated = SecretBox.of("the-new-secrets-key-0123456789", "the-old-secrets-key-0123456789");
    assertThat(rotated.open(sealedOld)).isEqualTo("rk-value");
    assertThat(rotated.sealedWithCurrentKey(sealedOld)).isFalse();
    assertThat(rotated.sealedWithCurrentKey(rotated.seal("rk-value"))).isTrue();

    SecretBox forgotten = SecretBox.of("the-new-secrets-key-0123456789", null);
    assertThatThrownBy(() -> forgotten.open(sealedOld)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(old.keyId()).hasMessageNotContaining("rk-value").hasMessageNotContaining("secrets-key");
  }

  @Test
  void alteredValuesAreRefused() {
    SecretBox box = SecretBox.of("a-long-secrets-key-0123456789", null);
    String sealed = box.seal("rk-replica-key-value");
    String body = sealed.substring(sealed.lastIndexOf(':') + 1);
    byte[] bytes = java.util.Base64.getDecoder().decode(body);
    bytes[bytes.length - 1] ^= 1;
    String altered = sealed.substring(0, sealed.lastIndexOf(':') + 1) + java.util.Base64.getEncoder().encodeToString(bytes);
    assertThatThrownBy(() -> box.open(altered)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> box.open("plain text")).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> box.open("v1:" + box.keyId() + ":AAAA")).isInstanceOf(IllegalStateException.class);
  }
}
