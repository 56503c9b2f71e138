package io.inferencegateway.store;

import io.inferencegateway.config.GatewayConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.jdbcclient.JDBCConnectOptions;
import io.vertx.jdbcclient.JDBCPool;
import io.vertx.mysqlclient.MySQLBuilder;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlConnection;

import java.util.function.Function;

import java.nio.file.Path;

/** The one pool the data layer uses, and which SQL dialect it speaks. */
public record Database(Pool pool, Dialect dialect, String description) {

  /** MariaDB/MySQL when a URL is configured, else embedded H2 (a file under the data directory). */
  public static Database create(Vertx vertx, GatewayConfig.Database config) {
    PoolOptions poolOptions = new PoolOptions().setMaxSize(config.poolSize()).setName("gateway-db");
    if (config.url() != null) {
      DatabaseUrl url = DatabaseUrl.parse(config.url());
      MySQLConnectOptions connect = new MySQLConnectOptions()
          .setHost(url.host()).setPort(url.port()).setDatabase(url.database())
          .setUser(url.user()).setPassword(url.password())
          .setCharset("utf8mb4")
          .setCachePreparedStatements(true)
          .setPreparedStatementCacheMaxSize(128)
          .setReconnectAttempts(0);
      // Fail fast when the server is down: the metrics writer buffers and retries, the admin API answers 503.
      Pool pool = MySQLBuilder.pool()
          .with(poolOptions.setConnectionTimeout(5).setConnectionTimeoutUnit(java.util.concurrent.TimeUnit.SECONDS))
          .with(new NetClientOptions().setConnectTimeout(3000))
          .connectingTo(connect).using(vertx).build();
      return new Database(pool, Dialect.MYSQL, url.toString());
    }
    Path dir = Path.of(config.dataDir()).toAbsolutePath().normalize();
    return h2(vertx, "jdbc:h2:file:" + dir.resolve("gateway"), config.poolSize(), "embedded H2 at " + dir.resolve("gateway.mv.db"));
  }

  /** An embedded H2 database at the given base JDBC URL (file: or mem:), in MySQL mode. */
  public static Database h2(Vertx vertx, String baseUrl, int poolSize, String description) {
    String url = baseUrl + ";MODE=MySQL;DATABASE_TO_LOWER=TRUE;CASE_INSENSITIVE_IDENTIFIERS=TRUE;DB_CLOSE_DELAY=-1";
    Pool pool = JDBCPool.pool(vertx, new JDBCConnectOptions().setJdbcUrl(url).setUser("sa").setPassword(""),
        new PoolOptions().setMaxSize(poolSize).setName("gateway-h2"));
    return new Database(pool, Dialect.H2, description);
  }

  /**
   * Runs {@code work} in one transaction. On H2 the autocommit mode is put back by hand afterwards: the JDBC client
   * of Vert.x 5.0.7 leaves pooled connections with autocommit off after a transaction (vert-x3/vertx-jdbc-client#356,
   * fixed after 5.0.7), which would silently keep later plain statements on that connection uncommitted.
   */
  public <T> Future<T> inTransaction(Function<SqlConnection, Future<T>> work) {
    if (dialect == Dialect.MYSQL) {
      return pool.withTransaction(work);
    }
    return pool.withConnection(conn -> conn.begin()
        .compose(tx -> work.apply(conn).compose(
            result -> tx.commit().map(result),
            err -> tx.rollback().transform(ignored -> Future.<T>failedFuture(err))))
        .eventually(() -> conn.query("SET AUTOCOMMIT TRUE").execute()));
  }

  public Future<Void> close() {
    return pool.close();
  }
}
