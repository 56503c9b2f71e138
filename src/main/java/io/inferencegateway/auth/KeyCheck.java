package io.inferencegateway.auth;

import io.inferencegateway.store.ApiKeyRow;

/** The outcome of checking a presented API key. */
public record KeyCheck(Outcome outcome, ApiKeyRow key) {

  public enum Outcome { VALID, MISSING, UNKNOWN, DISABLED, EXPIRED }

  static final KeyCheck MISSING = new KeyCheck(Outcome.MISSING, null);
  static final KeyCheck UNKNOWN = new KeyCheck(Outcome.UNKNOWN, null);

  public boolean valid() {
    return outcome == Outcome.VALID;
  }

  /** Why the key is refused, in words for the client (every entry point answers 401 with this); null if valid. */
  public String refusal() {
    return switch (outcome) {
      case VALID -> null;
      case MISSING -> "You didn't provide an API key. Send it as 'Authorization: Bearer sk-...'.";
      case DISABLED -> "This API key has been disabled.";
      case EXPIRED -> "This API key has expired.";
      case UNKNOWN -> "Incorrect API key provided.";
    };
  }
}
