package io.inferencegateway.metrics;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.ext.eventbus.bridge.tcp.TcpEventBusBridge;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs the metrics feed's TCP event-bus bridge (see {@link MetricsFeedBridge}) when {@code bridge.tcpPort} is set. */
public final class MetricsTcpBridgeVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(MetricsTcpBridgeVerticle.class);

  private final String host;
  private final int port;
  private final MetricsFeedBridge.TokenCheck tokens;
  private TcpEventBusBridge bridge;

  public MetricsTcpBridgeVerticle(String host, int port, MetricsFeedBridge.TokenCheck tokens) {
    this.host = host;
    this.port = port;
    this.tokens = tokens;
  }

  @Override
  public Future<?> start() {
    return MetricsFeedBridge.listenTcp(vertx, host, port, tokens)
        .onSuccess(b -> {
          bridge = b;
          log.info("Metrics feed TCP event-bus bridge on {}:{} (outbound only, token required)", host, port);
        })
        .recover(err -> Future.failedFuture(new IllegalStateException(
            "the TCP event-bus bridge could not listen on " + host + ":" + port + " (" + err.getMessage() + ")", err)));
  }

  @Override
  public Future<?> stop() {
    return bridge == null ? Future.succeededFuture() : bridge.close();
  }
}
