package io.inferencegateway.routing;

import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.net.PemTrustOptions;

/**
 * TLS towards replicas at {@code https://} endpoints: the server certificate is verified (host name included) against
 * the JVM's certificate authorities, or only those in {@code upstream.caFile} ({@code UPSTREAM_CA_FILE}) when set,
 * e.g. a private CA that signed the replicas' certificates.
 */
public final class UpstreamTls {

  private UpstreamTls() {}

  /** The client options, trusting {@code caFile}'s PEM certificates when it is set. */
  public static HttpClientOptions trusting(HttpClientOptions options, String caFile) {
    options.setVerifyHost(true);
    if (caFile != null) {
      options.setTrustOptions(new PemTrustOptions().addCertPath(caFile));
    }
    return options;
  }
}
