package io.inferencegateway.store;

import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.support.TestServices;
import io.vertx.core.Vertx;

/** The data-layer contract on MariaDB/MySQL through vertx-mysql-client. */
class MariaDbStoreTest extends StoreContract {

  private String url;

  @Override
  protected Database openDatabase(Vertx vertx) {
    url = TestServices.freshMysqlDatabase(vertx);
    return Database.create(vertx, new GatewayConfig.Database(url, "target/unused", 4));
  }

  @Override
  protected void dropDatabase(Vertx vertx) {
    TestServices.dropMysqlDatabase(vertx, url);
  }
}
