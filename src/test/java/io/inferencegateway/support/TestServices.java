package io.inferencegateway.support;

import io.inferencegateway.store.Database;
import io.inferencegateway.store.DatabaseUrl;
import io.vertx.core.Vertx;
import io.vertx.mysqlclient.MySQLBuilder;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.UUID;

/**
 * Finds the real MariaDB and Redis the tests talk to: {@code DATABASE_URL}/{@code REDIS_URL} if set, else the local
 * ports, else Testcontainers when a Docker engine is there. With {@code CI=true} a missing service fails the test
 * instead of skipping it.
 */
public final class TestServices {

  private static String mysqlServer;
  private static String redisServer;

  private TestServices() {}

  public static boolean ci() {
    return "true".equalsIgnoreCase(System.getenv("CI"));
  }

  /** mysql://user:pass@host:port/db of a reachable server (the database part is the server's default one). */
  public static synchronized String mysqlServerUrl() {
    if (mysqlServer != null) {
      return mysqlServer;
    }
    String env = System.getenv("DATABASE_URL");
    if (env != null && !env.isBlank()) {
      DatabaseUrl u = DatabaseUrl.parse(env);
      requireReachable("MariaDB/MySQL from DATABASE_URL", u.host(), u.port());
      return mysqlServer = env;
    }
    if (reachable("127.0.0.1", 3306)) {
      return mysqlServer = "mysql://root:@127.0.0.1:3306/test";
    }
    if (Containers.dockerAvailable()) {
      return mysqlServer = Containers.mariadbUrl();
    }
    return missing("MariaDB/MySQL (set DATABASE_URL, start it on 127.0.0.1:3306, or provide Docker)");
  }

  public static synchronized String redisUrl() {
    if (redisServer != null) {
      return redisServer;
    }
    String env = System.getenv("REDIS_URL");
    if (env != null && !env.isBlank()) {
      java.net.URI u = java.net.URI.create(env);
      requireReachable("Redis from REDIS_URL", u.getHost(), u.getPort() < 0 ? 6379 : u.getPort());
      return redisServer = env;
    }
    if (reachable("127.0.0.1", 6379)) {
      return redisServer = "redis://127.0.0.1:6379";
    }
    if (Containers.dockerAvailable()) {
      return redisServer = Containers.redisUrl();
    }
    return missing("Redis (set REDIS_URL, start it on 127.0.0.1:6379, or provide Docker)");
  }

  /** Creates an empty database on the MariaDB server for one test class and returns its URL. */
  public static String freshMysqlDatabase(Vertx vertx) {
    DatabaseUrl server = DatabaseUrl.parse(mysqlServerUrl());
    String name = "igw_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    Pool admin = adminPool(vertx, server);
    try {
      admin.query("CREATE DATABASE " + name + " CHARACTER SET utf8mb4").execute().await();
    } finally {
      admin.close().await();
    }
    return "mysql://" + server.user() + ":" + server.password() + "@" + server.host() + ":" + server.port() + "/" + name;
  }

  public static void dropMysqlDatabase(Vertx vertx, String url) {
    DatabaseUrl db = DatabaseUrl.parse(url);
    Pool admin = adminPool(vertx, db);
    try {
      admin.query("DROP DATABASE IF EXISTS " + db.database()).execute().await();
    } finally {
      admin.close().await();
    }
  }

  private static Pool adminPool(Vertx vertx, DatabaseUrl server) {
    return MySQLBuilder.pool().with(new PoolOptions().setMaxSize(1))
        .connectingTo(new MySQLConnectOptions().setHost(server.host()).setPort(server.port())
            .setUser(server.user()).setPassword(server.password()).setDatabase(server.database()))
        .using(vertx).build();
  }

  /** A fresh in-memory H2 database in MySQL mode (the embedded backend). */
  public static Database freshH2(Vertx vertx) {
    return Database.h2(vertx, "jdbc:h2:mem:igw_" + UUID.randomUUID().toString().replace("-", ""), 4, "test H2");
  }

  public static boolean reachable(String host, int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static void requireReachable(String what, String host, int port) {
    if (!reachable(host, port)) {
      missing(what + " at " + host + ":" + port);
    }
  }

  private static <T> T missing(String what) {
    if (ci()) {
      throw new AssertionError("CI=true and a required service is missing: " + what);
    }
    Assumptions.abort("skipped: no " + what);
    return null;
  }

  /** A free local TCP port (for servers that must know their port before binding, e.g. several instances). */
  public static int freePort() {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
