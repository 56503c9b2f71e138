package io.inferencegateway.admin;

import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.support.GatewayHarness;

import java.util.function.UnaryOperator;

/** The admin API contract on MariaDB (a fresh database on the test server). */
class AdminApiMariaDbTest extends AdminApiContract {

  @Override
  protected GatewayHarness start(UnaryOperator<GatewayConfig> tweak) {
    return GatewayHarness.mariadb(false, tweak);
  }
}
