package io.inferencegateway.hyperstack;

/**
 * The Hyperstack API said no ({@code "status": false}, or an HTTP error), or could not be reached. The message is
 * the API's own {@code message} where there is one; it never contains the API key.
 */
public final class HyperstackException extends RuntimeException {

  private final int httpStatus;
  private final String reason;

  /**
   * @param httpStatus the HTTP status of the answer, 0 when there was none (connection failure, timeout)
   * @param reason the API's {@code error_reason} (e.g. {@code not_found}), or null
   */
  public HyperstackException(int httpStatus, String message, String reason, Throwable cause) {
    super(message, cause, false, false);
    this.httpStatus = httpStatus;
    this.reason = reason;
  }

  public int httpStatus() {
    return httpStatus;
  }

  public String reason() {
    return reason;
  }

  public boolean notFound() {
    return httpStatus == 404 || "not_found".equals(reason);
  }

  /**
   * Whether trying again may help: no answer at all, rate limiting, or a server-side error. A 4xx (bad flavor,
   * quota, name taken, wrong key) will not change by retrying.
   */
  public boolean transientFailure() {
    return httpStatus == 0 || httpStatus == 429 || httpStatus >= 500;
  }
}
