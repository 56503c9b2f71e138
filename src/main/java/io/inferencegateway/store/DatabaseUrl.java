package io.inferencegateway.store;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/** A parsed {@code mysql://user:pass@host:port/db} URL (also accepts {@code mariadb://}). */
public record DatabaseUrl(String host, int port, String database, String user, String password) {

  public static DatabaseUrl parse(String url) {
    URI uri;
    try {
      uri = new URI(url.trim());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("DATABASE_URL is not a URL (expected mysql://user:pass@host:port/db)");
    }
    String scheme = uri.getScheme();
    if (scheme == null || !(scheme.equals("mysql") || scheme.equals("mariadb"))) {
      throw new IllegalArgumentException("DATABASE_URL must start with mysql:// (expected mysql://user:pass@host:port/db)");
    }
    if (uri.getHost() == null) {
      throw new IllegalArgumentException("DATABASE_URL has no host (expected mysql://user:pass@host:port/db)");
    }
    String path = uri.getRawPath() == null ? "" : uri.getRawPath().replaceFirst("^/", "");
    if (path.isEmpty()) {
      throw new IllegalArgumentException("DATABASE_URL has no database name (expected mysql://user:pass@host:port/db)");
    }
    String user = "root";
    String password = "";
    String info = uri.getRawUserInfo();
    if (info != null) {
      int colon = info.indexOf(':');
      user = decode(colon < 0 ? info : info.substring(0, colon));
      password = colon < 0 ? "" : decode(info.substring(colon + 1));
    }
    return new DatabaseUrl(uri.getHost(), uri.getPort() < 0 ? 3306 : uri.getPort(), decode(path), user, password);
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  @Override
  public String toString() {
    return "mysql://" + user + ":***@" + host + ":" + port + "/" + database;
  }
}
