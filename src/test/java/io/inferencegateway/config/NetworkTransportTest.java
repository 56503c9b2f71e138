package io.inferencegateway.config;

import io.vertx.core.json.JsonObject;
import io.vertx.core.transport.Transport;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The network transport setting: names, the "auto" choice, and the environment variable. */
class NetworkTransportTest {

  @Test
  void autoTakesTheFirstTransportThisMachineCanRun() {
    Transport expected = Transport.IO_URING.available() ? Transport.IO_URING
        : Transport.EPOLL.available() ? Transport.EPOLL : Transport.NIO;
    assertThat(NetworkTransport.choose("auto")).isSameAs(expected);
    assertThat(NetworkTransport.choose(null)).as("unset means auto").isSameAs(expected);
    assertThat(NetworkTransport.choose(" AUTO ")).isSameAs(expected);
  }

  @Test
  void aTransportNamedOutrightIsTakenOrRefusedWithItsReason() {
    assertThat(NetworkTransport.choose("nio")).isSameAs(Transport.NIO);
    for (String name : new String[] {"epoll", "io_uring"}) {
      Transport t = name.equals("epoll") ? Transport.EPOLL : Transport.IO_URING;
      if (t.available()) {
        assertThat(NetworkTransport.choose(name)).isSameAs(t);
      } else {
        assertThatThrownBy(() -> NetworkTransport.choose(name)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("cannot run here").hasMessageContaining("auto");
      }
    }
  }

  @Test
  void unknownNamesAreRefusedWhenTheConfigurationIsRead() {
    assertThatThrownBy(() -> GatewayConfig.fromJson(new JsonObject().put("http", new JsonObject()
        .put("transport", "kqueue-please")))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("auto, io_uring, epoll or nio").hasMessageContaining("kqueue-please");
    GatewayConfig c = GatewayConfig.fromJson(new JsonObject());
    assertThatThrownBy(() -> c.withEnvironment(Map.of("NETWORK_TRANSPORT", "fast")))
        .hasMessageContaining("NETWORK_TRANSPORT");
  }

  @Test
  void fileAndEnvironmentSetIt() {
    assertThat(GatewayConfig.fromJson(ConfigLoader.bundledDefaults()).http().transport()).isEqualTo("auto");
    assertThat(GatewayConfig.fromJson(new JsonObject()).http().transport()).isEqualTo("auto");
    GatewayConfig file = GatewayConfig.fromJson(new JsonObject().put("http", new JsonObject()
        .put("transport", "EPOLL").put("port", 7000)));
    assertThat(file.http().transport()).isEqualTo("epoll");
    GatewayConfig env = file.withEnvironment(Map.of("NETWORK_TRANSPORT", "nio", "HTTP_PORT", "7001"));
    assertThat(env.http().transport()).isEqualTo("nio");
    assertThat(env.http().port()).isEqualTo(7001);
    assertThat(env.withEnvironment(Map.of("HTTP_PORT", "7002")).http().transport()).as("kept by other settings")
        .isEqualTo("nio");
  }
}
