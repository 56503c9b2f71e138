package io.inferencegateway.ingress;

import io.inferencegateway.routing.ModelRoute;
import io.inferencegateway.routing.RouteHints;
import io.vertx.core.buffer.Buffer;

/**
 * What the parse stage learnt from a request body, for the stages after it. The parsed JSON itself is not kept: a
 * stream can last minutes, and only the bytes to send upstream are needed.
 *
 * @param upstreamBody the body to send to vLLM: the client's bytes, with {@code include_usage} spliced in for streams
 * @param clientWantsUsage whether the client asked for the usage chunk itself (else the relay drops it)
 * @param input the prompt to store with the usage record (only with {@code usage.storeContent}), else null
 * @param maxTokens the request's {@code max_tokens} (or {@code max_completion_tokens}), -1 when absent
 * @param resumable whether a broken stream of this request may be continued on another replica (see
 *     {@link StreamResume#resumable})
 */
record ParsedRequest(ModelRoute route, boolean stream, boolean clientWantsUsage, Buffer upstreamBody, RouteHints hints,
                     String input, int maxTokens, boolean resumable) {

  ParsedRequest(ModelRoute route, boolean stream, boolean clientWantsUsage, Buffer upstreamBody, RouteHints hints,
                String input) {
    this(route, stream, clientWantsUsage, upstreamBody, hints, input, -1, false);
  }
}
