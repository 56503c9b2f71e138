package io.inferencegateway.simulator;

/**
 * An error answered in vLLM's shape {@code {"error":{"message","type","param","code"}}}.
 * No stack trace: these are expected outcomes, thrown per request.
 */
final class ApiError extends RuntimeException {

  final int status;
  final String type;
  final String param;

  ApiError(int status, String type, String message, String param) {
    super(message, null, false, false);
    this.status = status;
    this.type = type;
    this.param = param;
  }

  static ApiError badRequest(String message, String param) {
    return new ApiError(400, "BadRequestError", message, param);
  }

  static ApiError notFound(String message, String param) {
    return new ApiError(404, "NotFoundError", message, param);
  }
}
