package io.inferencegateway.metrics;

import io.inferencegateway.config.Addresses;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServerOptions;
import io.vertx.ext.bridge.BaseBridgeEvent;
import io.vertx.ext.bridge.BridgeEventType;
import io.vertx.ext.bridge.BridgeOptions;
import io.vertx.ext.bridge.PermittedOptions;
import io.vertx.ext.eventbus.bridge.tcp.TcpEventBusBridge;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.sockjs.SockJSBridgeOptions;
import io.vertx.ext.web.handler.sockjs.SockJSHandler;
import io.vertx.ext.web.handler.sockjs.SockJSHandlerOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The metrics feed for programs outside the gateway: the event-bus addresses of the live summary, replica state and
 * provisioning progress, readable over Vert.x's SockJS bridge at {@code /eventbus} (the console's live panel uses it)
 * and, when configured, its TCP bridge. Both bridges are outbound only: a client may register on these addresses and
 * nothing else, and may never send or publish.
 *
 * <p>Every {@code register} message must carry a token in its headers, {@code {"headers": {"token": "..."}}}: the
 * admin key or a console session token. A registration without a valid one is refused (the client gets an error
 * message); an accepted socket is closed when its token expires, so a client re-registers with a fresh token.
 */
public final class MetricsFeedBridge {

  private static final Logger log = LoggerFactory.getLogger(MetricsFeedBridge.class);

  /** The addresses a client may listen to. */
  public static final List<String> ADDRESSES = List.of(
      Addresses.METRICS_LIVE, Addresses.REPLICAS_STATE, Addresses.REPLICAS_PROVISIONING);
  /** The register message header that carries the token. */
  public static final String TOKEN_HEADER = "token";
  public static final String SOCKJS_PATH = "/eventbus";

  /** Checks a bridge client's token. */
  @FunctionalInterface
  public interface TokenCheck {
    /** Succeeds with when the token stops being valid ({@link Instant#MAX}: never); fails if it is not valid. */
    Future<Instant> check(String token);
  }

  private MetricsFeedBridge() {}

  private static <T extends BridgeOptions> T permissions(T options) {
    for (String address : ADDRESSES) {
      options.addOutboundPermitted(new PermittedOptions().setAddress(address));
    }
    return options; // and no inbound permission at all
  }

  /**
   * Mounts the SockJS bridge at {@code /eventbus/*} on a router (the ingress has one router per event loop, so this
   * runs once per event loop, each with its own bridge).
   */
  public static void mountSockJs(Vertx vertx, Router router, TokenCheck tokens) {
    SockJSBridgeOptions options = permissions(new SockJSBridgeOptions()).setMaxHandlersPerSocket(ADDRESSES.size() * 2);
    // the iframe transports would load sockjs-client from a CDN: point them at the console's copy instead
    SockJSHandlerOptions sockJs = new SockJSHandlerOptions().setLibraryURL("/vendor/sockjs.min.js")
        .setInsertJSESSIONID(false); // no sticky sessions needed: SockJS sessions are shared by the event loops
    Guard guard = new Guard(vertx, tokens);
    router.route(SOCKJS_PATH + "/*").subRouter(SockJSHandler.create(vertx, sockJs)
        .bridge(options, event -> guard.handle(event, event.socket(), () -> event.socket().close(), null)));
  }

  /** Starts the TCP bridge on host:port; the returned bridge is closed with {@link TcpEventBusBridge#close()}. */
  public static Future<TcpEventBusBridge> listenTcp(Vertx vertx, String host, int port, TokenCheck tokens) {
    Guard guard = new Guard(vertx, tokens);
    TcpEventBusBridge bridge = TcpEventBusBridge.create(vertx, permissions(new BridgeOptions()),
        new NetServerOptions().setTcpNoDelay(true),
        // the TCP bridge reports no SOCKET_CLOSED event: the socket's close handler forgets it instead
        event -> guard.handle(event, event.socket(), () -> event.socket().close(),
            forget -> event.socket().closeHandler(v -> forget.run())));
    return bridge.listen(port, host);
  }

  /**
   * Decides on bridge events for one bridge (one event loop, so no locking): registrations need a valid token, sends
   * and publishes are refused, and each accepted socket is closed when the earliest of its tokens expires.
   */
  static final class Guard {
    private final Vertx vertx;
    private final TokenCheck tokens;
    private final Map<Object, Expiry> expiries = new HashMap<>();

    private record Expiry(long timer, long atMs) {}

    Guard(Vertx vertx, TokenCheck tokens) {
      this.vertx = vertx;
      this.tokens = tokens;
    }

    /**
     * @param close closes the event's socket
     * @param onClosed where the socket's close is not a bridge event, registers what to run when it closes
     */
    void handle(BaseBridgeEvent event, Object socket, Runnable close, Consumer<Runnable> onClosed) {
      BridgeEventType type = event.type();
      switch (type) {
        case SEND, PUBLISH -> {
          log.debug("Refused an inbound {} on the metrics feed", type);
          event.complete(false);
        }
        case REGISTER -> register(event, socket, close, onClosed);
        case SOCKET_CLOSED -> {
          forget(socket);
          event.complete(true);
        }
        default -> event.complete(true); // socket created/idle/ping, unregister, receive (after a register was accepted)
      }
    }

    private void register(BaseBridgeEvent event, Object socket, Runnable close, Consumer<Runnable> onClosed) {
      JsonObject raw = event.getRawMessage();
      JsonObject headers = raw == null ? null : raw.getJsonObject("headers");
      Object token = headers == null ? null : headers.getValue(TOKEN_HEADER);
      if (!(token instanceof String t) || t.isBlank()) {
        event.complete(false);
        return;
      }
      Future<Instant> checked;
      try {
        checked = tokens.check(t.trim());
      } catch (RuntimeException e) {
        checked = Future.failedFuture(e);
      }
      // the check may complete elsewhere (a database read): decide back on this bridge's event loop
      Context here = vertx.getOrCreateContext();
      checked.onComplete(ar -> {
        if (Vertx.currentContext() == here) {
          decide(event, ar.succeeded() ? ar.result() : null, socket, close, onClosed);
        } else {
          here.runOnContext(v -> decide(event, ar.succeeded() ? ar.result() : null, socket, close, onClosed));
        }
      });
    }

    private void decide(BaseBridgeEvent event, Instant expiry, Object socket, Runnable close, Consumer<Runnable> onClosed) {
      if (expiry == null || !expiry.isAfter(Instant.now())) {
        event.tryComplete(false);
        return;
      }
      closeAtExpiry(socket, expiry, close, onClosed);
      event.tryComplete(true);
    }

    private void closeAtExpiry(Object socket, Instant expiry, Runnable close, Consumer<Runnable> onClosed) {
      if (expiry.equals(Instant.MAX)) {
        return;
      }
      long atMs = expiry.toEpochMilli();
      Expiry current = expiries.get(socket);
      if (current != null && current.atMs() <= atMs) {
        return;
      }
      if (current != null) {
        vertx.cancelTimer(current.timer());
      } else if (onClosed != null) {
        onClosed.accept(() -> forget(socket));
      }
      long timer = vertx.setTimer(Math.max(1, atMs - System.currentTimeMillis()), id -> {
        expiries.remove(socket);
        log.debug("A metrics feed client's token expired; closing its socket");
        close.run();
      });
      expiries.put(socket, new Expiry(timer, atMs));
    }

    private void forget(Object socket) {
      Expiry e = expiries.remove(socket);
      if (e != null) {
        vertx.cancelTimer(e.timer());
      }
    }
  }
}
