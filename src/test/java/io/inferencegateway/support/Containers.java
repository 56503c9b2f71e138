package io.inferencegateway.support;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.MariaDBContainer;

/** Testcontainers, used only where a Docker engine exists (not on the project's CI machine). */
final class Containers {

  private static MariaDBContainer<?> mariadb;
  private static GenericContainer<?> redis;

  private Containers() {}

  static boolean dockerAvailable() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (Throwable t) {
      return false;
    }
  }

  static synchronized String mariadbUrl() {
    if (mariadb == null) {
      mariadb = new MariaDBContainer<>("mariadb:10.11").withUsername("root").withPassword("test");
      mariadb.start();
    }
    return "mysql://root:test@" + mariadb.getHost() + ":" + mariadb.getMappedPort(3306) + "/" + mariadb.getDatabaseName();
  }

  static synchronized String redisUrl() {
    if (redis == null) {
      redis = new GenericContainer<>("redis:7").withExposedPorts(6379);
      redis.start();
    }
    return "redis://" + redis.getHost() + ":" + redis.getMappedPort(6379);
  }
}
