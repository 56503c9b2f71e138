package io.inferencegateway.limits;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.util.List;

/**
 * One pipelined Redis connection, reconnected on demand. Commands from the hot path share it (Redis answers in
 * order, so there is no per-command connection checkout); a broken connection is dropped and the next command
 * opens a new one.
 */
public final class RedisLink {

  private final Redis client;
  private Future<RedisConnection> connection;

  public RedisLink(Vertx vertx, String url, long connectTimeoutMs) {
    this.client = Redis.createClient(vertx, new RedisOptions()
        .setConnectionString(url)
        .setMaxWaitingHandlers(65_536)
        .setMaxPoolSize(2)
        .setNetClientOptions(new NetClientOptions().setConnectTimeout((int) Math.max(100, connectTimeoutMs))
            .setTcpNoDelay(true)));
  }

  public Future<Response> send(Request request) {
    return connection().compose(c -> c.send(request));
  }

  public Future<List<Response>> batch(List<Request> requests) {
    return connection().compose(c -> c.batch(requests));
  }

  private synchronized Future<RedisConnection> connection() {
    if (connection == null || connection.failed()) {
      Promise<RedisConnection> promise = Promise.promise();
      Future<RedisConnection> attempt = promise.future();
      connection = attempt;
      client.connect().onComplete(ar -> {
        if (ar.succeeded()) {
          RedisConnection c = ar.result();
          c.exceptionHandler(err -> drop(attempt));
          c.endHandler(v -> drop(attempt));
          promise.complete(c);
        } else {
          drop(attempt);
          promise.fail(ar.cause());
        }
      });
    }
    return connection;
  }

  private synchronized void drop(Future<RedisConnection> which) {
    if (connection == which) {
      connection = null;
      if (which.succeeded()) {
        which.result().close();
      }
    }
  }

  public Future<Void> close() {
    return client.close();
  }
}
