package io.inferencegateway.ingress;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.simulator.SimulatorVerticle;
import io.inferencegateway.support.GatewayHarness;
import io.inferencegateway.support.Poll;
import io.inferencegateway.support.TestServices;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * TLS (issue 14 §2): the gateway serves its API over TLS from PEM files, negotiates HTTP/2 through ALPN, sends HSTS,
 * redirects its plain-HTTP port, serves renewed files to new connections without dropping open ones, refuses a key
 * that does not belong to its certificate, and talks to a replica at an {@code https://} endpoint whose certificate a
 * configured CA file vouches for. Certificates are made here, self-signed.
 */
class TlsTest {

  static final String MODEL = "test/tls";
  static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

  /** A self-signed certificate for localhost and 127.0.0.1, with its key, as PEM. */
  record Pem(X509Certificate cert, String certPem, String keyPem) {}

  static Pem selfSigned(String cn) throws Exception {
    KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
    gen.initialize(2048);
    KeyPair kp = gen.generateKeyPair();
    X500Name name = new X500Name("CN=" + cn);
    Instant now = Instant.now();
    var builder = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(SERIAL.incrementAndGet()),
        Date.from(now.minusSeconds(300)), Date.from(now.plus(Duration.ofDays(2))), name, kp.getPublic());
    builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
        new GeneralName(GeneralName.dNSName, "localhost"), new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    X509Certificate cert = new JcaX509CertificateConverter().getCertificate(
        builder.build(new JcaContentSignerBuilder("SHA256withRSA").build(kp.getPrivate())));
    Base64.Encoder b64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));
    return new Pem(cert,
        "-----BEGIN CERTIFICATE-----\n" + b64.encodeToString(cert.getEncoded()) + "\n-----END CERTIFICATE-----\n",
        "-----BEGIN PRIVATE KEY-----\n" + b64.encodeToString(kp.getPrivate().getEncoded()) + "\n-----END PRIVATE KEY-----\n");
  }

  /** Replaces a file the way certificate tools do: a complete new file moved over the old one. */
  static void replace(Path file, String content) throws Exception {
    Path tmp = Files.createTempFile(file.getParent(), "new", ".pem");
    Files.writeString(tmp, content);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  static X509TrustManager trusting(X509Certificate cert) throws Exception {
    KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
    ks.load(null, null);
    ks.setCertificateEntry("gateway", cert);
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    return (X509TrustManager) tmf.getTrustManagers()[0];
  }

  static SSLContext context(X509TrustManager tm) throws Exception {
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, new TrustManager[] {tm}, null);
    return ctx;
  }

  /** What a new connection is served: the certificate and the ALPN protocol chosen from h2 and http/1.1. */
  record Handshake(X509Certificate cert, String protocol) {}

  static Handshake handshake(int port) throws Exception {
    X509TrustManager any = new X509TrustManager() {
      public void checkClientTrusted(X509Certificate[] chain, String authType) { }
      public void checkServerTrusted(X509Certificate[] chain, String authType) { }
      public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
      }
    };
    try (SSLSocket s = (SSLSocket) context(any).getSocketFactory().createSocket("127.0.0.1", port)) {
      SSLParameters p = s.getSSLParameters();
      p.setApplicationProtocols(new String[] {"h2", "http/1.1"});
      s.setSSLParameters(p);
      s.startHandshake();
      return new Handshake((X509Certificate) s.getSession().getPeerCertificates()[0], s.getApplicationProtocol());
    }
  }

  @Test
  void servesTlsWithAlpnHstsAndARedirectReloadsRenewedFilesAndTrustsAnHttpsReplica() throws Exception {
    Path dir = Files.createTempDirectory("igw-tls");
    Path certFile = dir.resolve("cert.pem");
    Path keyFile = dir.resolve("key.pem");
    Pem first = selfSigned("gateway-first");
    Files.writeString(certFile, first.certPem());
    Files.writeString(keyFile, first.keyPem());
    // the replica's certificate, and the CA file that vouches for it (a self-signed certificate is its own CA)
    Pem replicaPem = selfSigned("replica");
    Path replicaCert = dir.resolve("replica-cert.pem");
    Path replicaKey = dir.resolve("replica-key.pem");
    Files.writeString(replicaCert, replicaPem.certPem());
    Files.writeString(replicaKey, replicaPem.keyPem());
    int redirectPort = TestServices.freePort();

    try (GatewayHarness gw = GatewayHarness.embedded(c -> c
        .withHttp(c.http().withTls(new GatewayConfig.Tls(certFile.toString(), keyFile.toString(), redirectPort, 200,
            86_400)))
        // a first TLS handshake on a cold JVM can take longer than the harness's 500 ms health check
        .withHealth(new GatewayConfig.Health(500, 5000))
        .withUpstream(c.upstream().withCaFile(replicaCert.toString())))) {
      int port = gw.app.port();
      String https = "https://localhost:" + port;

      // a replica behind TLS: a TLS-terminating TCP proxy in front of the simulator
      Vertx vertx = gw.app.vertx();
      SimulatorVerticle sim = gw.simulator(0, GatewayHarness.simSettings(MODEL, new JsonObject().put("tokensPerAnswer", 3)));
      NetClient toSim = vertx.createNetClient();
      NetServer replica = vertx.createNetServer(new NetServerOptions().setSsl(true).setKeyCertOptions(
          new PemKeyCertOptions().setCertPath(replicaCert.toString()).setKeyPath(replicaKey.toString())));
      replica.connectHandler(in -> {
        in.pause();
        toSim.connect(sim.actualPort(), "127.0.0.1").onSuccess(out -> {
          in.pipeTo(out);
          out.pipeTo(in);
          in.resume();
        }).onFailure(e -> in.close());
      }).listen(0, "127.0.0.1").await();
      gw.replica(gw.model(MODEL), "https://localhost:" + replica.actualPort());
      GatewayHarness.Key key = gw.key("tls-user");
      Poll.until("the https replica healthy", Duration.ofSeconds(20),
          () -> gw.app.services().registry().model(MODEL).replicas().get(0).routable());

      // the OpenAI SDK, trusting the gateway's certificate: a chat answered through the https replica
      X509TrustManager trustFirst = trusting(first.cert());
      OpenAIClient openai = OpenAIOkHttpClient.builder().baseUrl(https + "/v1").apiKey(key.plaintext()).maxRetries(0)
          .timeout(Duration.ofSeconds(30)).sslSocketFactory(context(trustFirst).getSocketFactory())
          .trustManager(trustFirst).build();
      try {
        ChatCompletion c = openai.chat().completions().create(ChatCompletionCreateParams.builder()
            .model(MODEL).addUserMessage("Hello over TLS").build());
        assertThat(c.choices().get(0).message().content().orElseThrow().split(" ")).hasSize(3);
      } finally {
        openai.close();
      }

      Handshake h = handshake(port);
      assertThat(h.cert()).isEqualTo(first.cert());
      assertThat(h.protocol()).as("ALPN").isEqualTo("h2");

      // an HTTP/2 connection opened now, kept across the renewal (its client trusts only the first certificate)
      HttpClient kept = HttpClient.newBuilder().sslContext(context(trustFirst)).version(HttpClient.Version.HTTP_2)
          .build();
      HttpResponse<String> health = kept.send(HttpRequest.newBuilder(URI.create(https + "/health")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(health.statusCode()).isEqualTo(200);
      assertThat(health.version()).isEqualTo(HttpClient.Version.HTTP_2);
      assertThat(health.headers().firstValue("strict-transport-security")).hasValue("max-age=86400");

      // plain HTTP: only the redirect port, 308 to the same path over https
      HttpClient plain = HttpClient.newHttpClient();
      HttpResponse<String> redirected = plain.send(HttpRequest.newBuilder(
          URI.create("http://localhost:" + redirectPort + "/v1/models?x=1")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(redirected.statusCode()).isEqualTo(308);
      assertThat(redirected.headers().firstValue("location")).hasValue(https + "/v1/models?x=1");
      assertThatThrownBy(() -> plain.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/health"))
          .build(), HttpResponse.BodyHandlers.ofString())).as("no plain HTTP on the TLS port").isNotNull();

      // renewal: new files on disk; new connections get the new certificate
      Pem second = selfSigned("gateway-second");
      replace(keyFile, second.keyPem());
      replace(certFile, second.certPem());
      Poll.until("the renewed certificate served", Duration.ofSeconds(10),
          () -> {
            try {
              return handshake(port).cert().equals(second.cert());
            } catch (Exception e) {
              return false;
            }
          });
      assertThat(handshake(port).protocol()).as("ALPN after the reload").isEqualTo("h2");
      // the connection opened before still works (a new one would not: this client does not trust the new one)
      HttpResponse<String> again = kept.send(HttpRequest.newBuilder(URI.create(https + "/health")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(again.statusCode()).isEqualTo(200);
      HttpClient fresh = HttpClient.newBuilder().sslContext(context(trustFirst)).build();
      assertThatThrownBy(() -> fresh.send(HttpRequest.newBuilder(URI.create(https + "/health")).build(),
          HttpResponse.BodyHandlers.ofString())).isInstanceOf(javax.net.ssl.SSLHandshakeException.class);

      // a key that does not belong to the certificate is not taken: the renewed pair stays
      Pem third = selfSigned("gateway-mismatched");
      replace(certFile, third.certPem());
      boolean changed = Poll.within(Duration.ofMillis(1500), () -> {
        try {
          return !handshake(port).cert().equals(second.cert());
        } catch (Exception e) {
          return true;
        }
      });
      assertThat(changed).as("a mismatched pair served").isFalse();
      // and once the key follows, it is
      replace(keyFile, third.keyPem());
      Poll.until("the completed renewal served", Duration.ofSeconds(10), () -> {
        try {
          return handshake(port).cert().equals(third.cert());
        } catch (Exception e) {
          return false;
        }
      });
      replica.close();
      toSim.close();
    }
  }

  @Test
  void anHttp2ConnectionInUseOutlivesTheHeadDeadlineAndAnIdleOneIsClosed() throws Exception {
    Path dir = Files.createTempDirectory("igw-tls");
    Pem pem = selfSigned("gateway-h2");
    Path certFile = dir.resolve("cert.pem");
    Path keyFile = dir.resolve("key.pem");
    Files.writeString(certFile, pem.certPem());
    Files.writeString(keyFile, pem.keyPem());
    try (GatewayHarness gw = GatewayHarness.embedded(c -> c
        .withHttp(c.http().withTls(new GatewayConfig.Tls(certFile.toString(), keyFile.toString(), 0, 10_000, 0))
            .withClients(new GatewayConfig.Clients(256L << 20, 64L << 20, 1000, 2500, 100, 100, false))))) {
      String https = "https://localhost:" + gw.app.port();
      HttpClient h2 = HttpClient.newBuilder().sslContext(context(trusting(pem.cert())))
          .version(HttpClient.Version.HTTP_2).build();
      // requests 1.2 s apart on one connection, for longer than the 1 s head deadline: not closed (not idle either)
      for (int i = 0; i < 4; i++) {
        HttpResponse<String> r = h2.send(HttpRequest.newBuilder(URI.create(https + "/health")).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(r.headers().firstValue("strict-transport-security")).as("hstsMaxAgeSeconds 0").isEmpty();
        Thread.sleep(1200); // the gap itself is the scenario: real time against the gateway's once-a-second sweep
      }
      assertThat(gw.app.services().clientLimits().connections()).as("one connection all along").isEqualTo(1);
      // idle for the 2.5 s idle timeout: closed by the gateway
      Poll.until("the idle HTTP/2 connection closed", Duration.ofSeconds(10),
          () -> gw.app.services().clientLimits().connections() == 0);
    }
  }
}
