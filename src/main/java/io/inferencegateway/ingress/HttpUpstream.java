package io.inferencegateway.ingress;

import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.routing.ReplicaState;
import io.inferencegateway.routing.UpstreamTarget;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;

import java.util.function.LongSupplier;

/**
 * Sends a request to a replica's vLLM server over this event loop's HTTP client: POST of the parsed body to the
 * operation's path, with the replica's API key as {@code Authorization} when it has one (never the client's own key).
 * The request joins the {@link Watchdog} once sent. A 401/403 from the replica means it refuses the gateway's key:
 * 502 {@code upstream_auth_failed} (another replica may be tried). A 5xx answer is drained (so the connection is
 * reused) and fails, so that route-and-send may try another replica; so does a whole (non-streamed) answer whose body
 * cannot be read to its end.
 */
final class HttpUpstream implements RouteAndSend.Upstream {

  private static final CharSequence X_REQUEST_ID = HttpHeaders.createOptimized("x-request-id");
  private static final CharSequence JSON = HttpHeaders.createOptimized("application/json");
  private static final CharSequence EVENT_STREAM = HttpHeaders.createOptimized("text/event-stream");

  private final HttpClient client;
  private final GatewayConfig.Upstream settings;
  private final Watchdog watchdog;
  private final LongSupplier clockNanos;

  HttpUpstream(HttpClient client, GatewayConfig.Upstream settings, Watchdog watchdog, LongSupplier clockNanos) {
    this.clockNanos = clockNanos;
    this.client = client;
    this.settings = settings;
    this.watchdog = watchdog;
  }

  @Override
  public Future<HttpClientResponse> send(ProxyExchange ex, ReplicaState replica) {
    UpstreamTarget target = replica.target();
    RequestOptions options = new RequestOptions()
        .setMethod(HttpMethod.POST)
        .setHost(target.host())
        .setPort(target.port())
        .setSsl(target.ssl())
        .setURI(target.uri(ex.op.upstreamPath()))
        .setConnectTimeout(settings.connectTimeoutMs()) // the wait for a pooled connection; the watchdog does the rest
        .putHeader(HttpHeaders.CONTENT_TYPE, JSON)
        .putHeader(HttpHeaders.ACCEPT, ex.parsed.stream() ? EVENT_STREAM : JSON)
        .putHeader(X_REQUEST_ID, ex.requestId);
    String authorization = target.authorization();
    if (authorization != null) {
      options.putHeader(HttpHeaders.AUTHORIZATION, authorization);
    }
    return client.request(options)
        .compose(request -> {
          ex.upstream = request;
          if (ex.clientGone()) {
            request.reset();
            return Future.failedFuture(IngressFailure.upstreamUnreachable("client went away"));
          }
          watchdog.watch(ex);
          return request.send(ex.upstreamBody());
        })
        .compose(answer -> {
          ex.lastDataNanos = clockNanos.getAsLong(); // the head came: from now on the idle timeout counts
          if (answer.statusCode() >= 500) {
            return answer.body().transform(ar -> Future.failedFuture(IngressFailure.upstreamError(answer.statusCode())));
          }
          if (answer.statusCode() == 401 || answer.statusCode() == 403) {
            // vLLM refuses the gateway's key for it: the client's request is not at fault, and must not learn more
            return answer.body().transform(ar -> Future.failedFuture(
                IngressFailure.upstreamAuthFailed(answer.statusCode())));
          }
          if (ex.parsed.stream()) {
            return Future.succeededFuture(answer);
          }
          // a whole answer is read here, not in the relay: a replica that dies after its head fails this attempt,
          // and another replica is tried, since nothing has reached the client yet
          return answer.body().map(body -> {
            ex.answerBody = body;
            return answer;
          });
        });
  }
}
