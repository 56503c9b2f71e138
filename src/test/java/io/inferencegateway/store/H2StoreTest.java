package io.inferencegateway.store;

import io.inferencegateway.support.TestServices;
import io.vertx.core.Vertx;

/** The data-layer contract on the embedded H2 database (MySQL mode) through vertx-jdbc-client. */
class H2StoreTest extends StoreContract {

  @Override
  protected Database openDatabase(Vertx vertx) {
    return TestServices.freshH2(vertx);
  }
}
