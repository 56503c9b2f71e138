package io.inferencegateway.retention;

import io.inferencegateway.support.GatewayHarness;

/** The usage roll-up on MariaDB. */
class RetentionMariaDbTest extends RetentionContract {

  @Override
  protected GatewayHarness start() {
    return GatewayHarness.mariadb(false, c -> c);
  }
}
