package io.inferencegateway.config;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The {@code http} client limits and TLS settings, and their environment variables. */
class HttpConfigTest {

  @Test
  void clientLimitsDefaultToBoundedValuesWithH2cOff() {
    GatewayConfig.Http bundled = GatewayConfig.fromJson(ConfigLoader.bundledDefaults()).http();
    assertThat(bundled.clients()).isEqualTo(GatewayConfig.Clients.DEFAULTS);
    assertThat(GatewayConfig.fromJson(new JsonObject()).http().clients()).isEqualTo(GatewayConfig.Clients.DEFAULTS);
    GatewayConfig.Clients d = GatewayConfig.Clients.DEFAULTS;
    assertThat(d.bodyBudgetBytes()).isEqualTo(256L << 20);
    assertThat(d.bodyBudgetPerKeyBytes()).isEqualTo(64L << 20);
    assertThat(d.requestDeadlineMs()).isEqualTo(30_000);
    assertThat(d.idleTimeoutMs()).isEqualTo(60_000);
    assertThat(d.maxConnections()).isEqualTo(20_000);
    assertThat(d.maxConnectionsPerAddress()).isEqualTo(1000);
    assertThat(d.h2c()).isFalse();
    assertThat(bundled.tls().enabled()).isFalse();
  }

  @Test
  void settingsAreReadAndCheckedFromTheFile() {
    GatewayConfig.Http http = GatewayConfig.fromJson(new JsonObject().put("http", new JsonObject()
        .put("bodyBudgetBytes", 1000).put("requestDeadlineMs", 5000).put("maxConnectionsPerAddress", 0).put("h2c", true)
        .put("tls", new JsonObject().put("certFile", "/c.pem").put("keyFile", "/k.pem").put("redirectPort", 80))))
        .http();
    assertThat(http.clients().bodyBudgetBytes()).isEqualTo(1000);
    assertThat(http.clients().requestDeadlineMs()).isEqualTo(5000);
    assertThat(http.clients().maxConnectionsPerAddress()).isZero();
    assertThat(http.clients().h2c()).isTrue();
    assertThat(http.tls()).isEqualTo(new GatewayConfig.Tls("/c.pem", "/k.pem", 80, 10_000, 31_536_000));
    assertThatThrownBy(() -> GatewayConfig.fromJson(new JsonObject().put("http", new JsonObject()
        .put("tls", new JsonObject().put("certFile", "/c.pem"))))).hasMessageContaining("http.tls.keyFile");
    assertThatThrownBy(() -> GatewayConfig.fromJson(new JsonObject().put("http", new JsonObject()
        .put("bodyBudgetBytes", 0)))).hasMessageContaining("bodyBudgetBytes");
  }

  @Test
  void environmentSetsTlsFilesAndTheReplicaCaWithoutLosingTheRest() {
    GatewayConfig base = GatewayConfig.fromJson(new JsonObject().put("http", new JsonObject().put("h2c", true)));
    GatewayConfig c = base.withEnvironment(Map.of("TLS_CERT_FILE", "/etc/gw/cert.pem", "TLS_KEY_FILE",
        "/etc/gw/key.pem", "UPSTREAM_CA_FILE", "/etc/gw/ca.pem", "HTTP_PORT", "8443"));
    assertThat(c.http().port()).isEqualTo(8443);
    assertThat(c.http().clients().h2c()).as("kept when HTTP_PORT is set").isTrue();
    assertThat(c.http().tls().certFile()).isEqualTo("/etc/gw/cert.pem");
    assertThat(c.http().tls().keyFile()).isEqualTo("/etc/gw/key.pem");
    assertThat(c.upstream().caFile()).isEqualTo("/etc/gw/ca.pem");
    assertThatThrownBy(() -> base.withEnvironment(Map.of("TLS_CERT_FILE", "/c.pem")))
        .hasMessageContaining("TLS_KEY_FILE");
    assertThat(base.withEnvironment(Map.of("HTTP_MAX_CONNECTIONS_PER_ADDRESS", "0")).http().clients()
        .maxConnectionsPerAddress()).isZero();
    assertThatThrownBy(() -> base.withEnvironment(Map.of("HTTP_MAX_CONNECTIONS_PER_ADDRESS", "-1")))
        .hasMessageContaining("HTTP_MAX_CONNECTIONS_PER_ADDRESS");
  }
}
