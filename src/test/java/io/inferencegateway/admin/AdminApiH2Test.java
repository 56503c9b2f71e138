package io.inferencegateway.admin;

import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.support.GatewayHarness;

import java.util.function.UnaryOperator;

/** The admin API contract on the embedded H2 database. */
class AdminApiH2Test extends AdminApiContract {

  @Override
  protected GatewayHarness start(UnaryOperator<GatewayConfig> tweak) {
    return GatewayHarness.embedded(tweak);
  }
}
