package io.inferencegateway.support;

import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP forwarder in front of a real service (MariaDB, Redis), so a test can cut the service off and bring it back
 * without touching the server other tests use: {@link #stop()} refuses new connections and drops open ones.
 */
public final class TcpProxy {

  private final Vertx vertx;
  private final String targetHost;
  private final int targetPort;
  private final int port;
  private final NetClient client;
  private final Set<NetSocket> sockets = ConcurrentHashMap.newKeySet();
  private NetServer server;

  public TcpProxy(Vertx vertx, String targetHost, int targetPort) {
    this.vertx = vertx;
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    this.port = TestServices.freePort();
    this.client = vertx.createNetClient();
  }

  public int port() {
    return port;
  }

  public synchronized TcpProxy start() {
    server = vertx.createNetServer().connectHandler(in -> {
      in.pause();
      sockets.add(in);
      client.connect(targetPort, targetHost).onComplete(ar -> {
        if (ar.failed()) {
          in.close();
          return;
        }
        NetSocket out = ar.result();
        sockets.add(out);
        in.closeHandler(v -> out.close());
        out.closeHandler(v -> in.close());
        in.handler(out::write);
        out.handler(in::write);
        in.resume();
      });
    });
    server.listen(port, "127.0.0.1").await();
    return this;
  }

  /** Refuses new connections and closes every open one, as if the service had died. */
  public synchronized void stop() {
    if (server != null) {
      server.close().await();
      server = null;
    }
    for (NetSocket s : sockets) {
      s.close();
    }
    sockets.clear();
  }
}
