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
}
