package io.inferencegateway;

import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.support.GatewayHarness;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/** A gateway that cannot start reports why, instead of hanging (its Vertx is closed on the way out). */
class StartFailureTest {

  @Test
  void aPortInUseFailsTheStartInsteadOfHangingIt() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
      GatewayConfig base = GatewayHarness.baseConfig(null, null);
      GatewayConfig config = base.withHttp(new GatewayConfig.Http("127.0.0.1", taken.getLocalPort(), 1,
          base.http().maxBodyBytes()));
      assertTimeoutPreemptively(Duration.ofSeconds(60), () ->
          assertThatThrownBy(() -> GatewayApp.start(config).await()).hasMessageContaining("in use"));
    }
  }
}
