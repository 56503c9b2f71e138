package io.inferencegateway.retention;

import io.inferencegateway.support.GatewayHarness;

/** The usage roll-up on the embedded H2 database. */
class RetentionH2Test extends RetentionContract {

  @Override
  protected GatewayHarness start() {
    return GatewayHarness.embedded(c -> c);
  }
}
