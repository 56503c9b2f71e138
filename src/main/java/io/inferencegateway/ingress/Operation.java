package io.inferencegateway.ingress;

/** The OpenAI operations the gateway proxies, with the path vLLM serves them on. */
public enum Operation {
  CHAT("/v1/chat/completions", "chat/completions"),
  COMPLETIONS("/v1/completions", "completions"),
  EMBEDDINGS("/v1/embeddings", "embeddings");

  private final String upstreamPath;
  private final String recordName;

  Operation(String upstreamPath, String recordName) {
    this.upstreamPath = upstreamPath;
    this.recordName = recordName;
  }

  public String upstreamPath() {
    return upstreamPath;
  }

  /** The path under the API's base ({@code /v1} or {@code /api/v1}), e.g. {@code /chat/completions}. */
  public String path() {
    return upstreamPath.substring("/v1".length());
  }

  /** The value stored in {@code metrics.endpoint}. */
  public String recordName() {
    return recordName;
  }

  public boolean canStream() {
    return this != EMBEDDINGS;
  }
}
