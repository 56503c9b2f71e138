package io.inferencegateway.simulator;

/** The three inference endpoints and the names vLLM uses for their objects and ids. */
enum Endpoint {
  CHAT("/v1/chat/completions", "chatcmpl-", "chat.completion", "chat.completion.chunk"),
  COMPLETIONS("/v1/completions", "cmpl-", "text_completion", "text_completion"),
  EMBEDDINGS("/v1/embeddings", "embd-", "list", null);

  final String path;
  final String idPrefix;
  final String object;
  final String chunkObject;

  Endpoint(String path, String idPrefix, String object, String chunkObject) {
    this.path = path;
    this.idPrefix = idPrefix;
    this.object = object;
    this.chunkObject = chunkObject;
  }
}
