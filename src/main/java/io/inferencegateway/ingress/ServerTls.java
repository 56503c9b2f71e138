package io.inferencegateway.ingress;

import io.inferencegateway.config.GatewayConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.ServerSSLOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The gateway's TLS certificate, from a PEM certificate (chain) file and a PEM key file. The files are looked at every
 * {@code http.tls.reloadCheckMs} (modification time and size); when they changed and hold a certificate and key that
 * belong together, the new pair goes to every HTTP server (new connections get it, open ones keep theirs). A pair
 * that does not match, a missing or unreadable file keeps the old certificate and is logged; so is a half-written
 * renewal, which matches once both files are complete. One per process.
 */
public final class ServerTls {

  private static final Logger log = LoggerFactory.getLogger(ServerTls.class);

  /** A certificate and key read from the files, checked to belong together. */
  record Pair(Buffer cert, Buffer key, String stamp, String subject, java.time.Instant notAfter) {}

  private final Vertx vertx;
  private final GatewayConfig.Tls settings;
  private final List<Consumer<ServerSSLOptions>> servers = new CopyOnWriteArrayList<>();
  private volatile Pair current;
  private long timer = -1;
  private boolean checking;
  private volatile String failedStamp;

  private ServerTls(Vertx vertx, GatewayConfig.Tls settings, Pair first) {
    this.vertx = vertx;
    this.settings = settings;
    this.current = first;
  }

  /** Reads and checks the files (off the event loop); fails if they cannot serve. */
  public static Future<ServerTls> load(Vertx vertx, GatewayConfig.Tls settings) {
    return vertx.executeBlocking(() -> read(vertx, settings, null), false).map(pair -> {
      log.info("TLS: serving {} (valid until {}) from {}", pair.subject(), pair.notAfter(), settings.certFile());
      return new ServerTls(vertx, settings, pair);
    });
  }

  /** The options to start a server with, and to update it to. */
  public ServerSSLOptions sslOptions() {
    Pair p = current;
    return new ServerSSLOptions().setUseAlpn(true)
        .setKeyCertOptions(new PemKeyCertOptions().setCertValue(p.cert()).setKeyValue(p.key()));
  }

  /** Called with the new options whenever the certificate changes (from a worker thread). */
  public void onChange(Consumer<ServerSSLOptions> server) {
    servers.add(server);
  }

  public void removeOnChange(Consumer<ServerSSLOptions> server) {
    servers.remove(server);
  }

  /** Starts looking at the files every {@code reloadCheckMs}. */
  public void watch() {
    timer = vertx.setPeriodic(settings.reloadCheckMs(), id -> check());
  }

  public void stop() {
    vertx.cancelTimer(timer);
  }

  /** Looks at the files once; succeeds with true if a new certificate went to the servers. */
  public synchronized Future<Boolean> check() {
    if (checking) {
      return Future.succeededFuture(false);
    }
    checking = true;
    String known = current.stamp();
    String refused = failedStamp;
    String[] seen = new String[1];
    return vertx.executeBlocking(() -> {
      seen[0] = stamp(settings);
      if (seen[0].equals(known) || seen[0].equals(refused)) {
        return null; // unchanged, or the same unusable files as last time (already logged)
      }
      return read(vertx, settings, known);
    }, false).transform(ar -> {
      synchronized (this) {
        checking = false;
      }
      if (ar.failed()) {
        failedStamp = seen[0];
        log.warn("TLS: the certificate files changed but cannot be used ({}); still serving the previous certificate",
            ar.cause().getMessage());
        return Future.succeededFuture(false);
      }
      Pair pair = ar.result();
      if (pair == null) {
        return Future.succeededFuture(false);
      }
      current = pair;
      log.info("TLS: certificate reloaded: {} (valid until {})", pair.subject(), pair.notAfter());
      ServerSSLOptions options = sslOptions();
      servers.forEach(s -> s.accept(options));
      return Future.succeededFuture(true);
    });
  }

  /** Modification times and sizes of both files: what tells a change. */
  private static String stamp(GatewayConfig.Tls s) throws java.io.IOException {
    Path cert = Path.of(s.certFile());
    Path key = Path.of(s.keyFile());
    return Files.getLastModifiedTime(cert).toMillis() + ":" + Files.size(cert) + "/"
        + Files.getLastModifiedTime(key).toMillis() + ":" + Files.size(key);
  }

  /** Blocking: reads both files and checks that the key signs what the certificate's public key verifies. */
  private static Pair read(Vertx vertx, GatewayConfig.Tls s, String previousStamp) throws Exception {
    String before = stamp(s);
    Buffer cert = Buffer.buffer(Files.readAllBytes(Path.of(s.certFile())));
    Buffer key = Buffer.buffer(Files.readAllBytes(Path.of(s.keyFile())));
    if (!before.equals(stamp(s))) {
      throw new IllegalStateException("the files changed while being read (a renewal being written)");
    }
    KeyStore store;
    try {
      store = new PemKeyCertOptions().setCertValue(cert).setKeyValue(key).loadKeyStore(vertx);
    } catch (Exception e) {
      throw new IllegalArgumentException("cannot read the PEM certificate " + s.certFile() + " and key "
          + s.keyFile() + ": " + e.getMessage(), e);
    }
    for (String alias : Collections.list(store.aliases())) {
      Key k = store.getKey(alias, io.vertx.core.net.impl.KeyStoreHelper.DUMMY_PASSWORD.toCharArray());
      Certificate[] chain = store.getCertificateChain(alias);
      if (k instanceof PrivateKey pk && chain != null && chain.length > 0 && chain[0] instanceof X509Certificate x) {
        if (!matches(pk, x)) {
          throw new IllegalArgumentException("the key in " + s.keyFile() + " does not belong to the certificate in "
              + s.certFile());
        }
        return new Pair(cert, key, before, x.getSubjectX500Principal().getName(), x.getNotAfter().toInstant());
      }
    }
    throw new IllegalArgumentException("no certificate and private key in " + s.certFile() + " and " + s.keyFile());
  }

  static boolean matches(PrivateKey key, X509Certificate cert) {
    String alg = switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      case "Ed25519", "EdDSA" -> "Ed25519";
      case "Ed448" -> "Ed448";
      default -> null;
    };
    if (alg == null) {
      return true; // a key type we cannot test: let the handshake tell
    }
    try {
      byte[] challenge = new byte[32];
      new SecureRandom().nextBytes(challenge);
      Signature signer = Signature.getInstance(alg);
      signer.initSign(key);
      signer.update(challenge);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(alg);
      verifier.initVerify(cert.getPublicKey());
      verifier.update(challenge);
      return verifier.verify(signature);
    } catch (java.security.GeneralSecurityException e) {
      return false;
    }
  }
}
