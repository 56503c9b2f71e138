package io.inferencegateway.routing;

import java.net.URI;
import java.net.URISyntaxException;

/**
 * Where a replica's vLLM server is: scheme, host, port and the path prefix before {@code /v1}.
 * The endpoint may be the base URL ({@code http://host:8000}), the OpenAI base ({@code http://host:8000/v1}), or a
 * full operation URL as the toolkit stored it ({@code http://host:8000/v1/chat/completions}); all reduce to the base.
 * {@code apiKey}: what the replica's vLLM expects as {@code Authorization: Bearer} ({@code --api-key}); null: none.
 */
public record UpstreamTarget(boolean ssl, String host, int port, String basePath, String apiKey) {

  public UpstreamTarget(boolean ssl, String host, int port, String basePath) {
    this(ssl, host, port, basePath, null);
  }

  /** The same address, sending {@code apiKey} (null or blank: none). */
  public UpstreamTarget withApiKey(String apiKey) {
    return new UpstreamTarget(ssl, host, port, basePath, apiKey == null || apiKey.isBlank() ? null : apiKey);
  }

  /** The {@code Authorization} header value for the replica, or null if it has no key. */
  public String authorization() {
    return apiKey == null ? null : "Bearer " + apiKey;
  }

  @Override
  public String toString() {
    // Never print the key: this string can end up in logs.
    return "UpstreamTarget[" + baseUrl() + (apiKey == null ? "" : ", with API key") + "]";
  }

  private static final String[] OPERATION_SUFFIXES = {"/chat/completions", "/completions", "/embeddings", "/models"};

  public static UpstreamTarget parse(String endpoint) {
    if (endpoint == null || endpoint.isBlank()) {
      throw new IllegalArgumentException("endpoint is empty");
    }
    URI uri;
    try {
      uri = new URI(endpoint.trim());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("endpoint is not a URL: " + endpoint);
    }
    String scheme = uri.getScheme();
    if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))) {
      throw new IllegalArgumentException("endpoint must be an http:// or https:// URL: " + endpoint);
    }
    if (uri.getHost() == null) {
      throw new IllegalArgumentException("endpoint has no host: " + endpoint);
    }
    if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
      throw new IllegalArgumentException("endpoint must not have a query or fragment: " + endpoint);
    }
    if (uri.getPort() == 0 || uri.getPort() > 65535 || (uri.getPort() < 0 && uri.getRawAuthority() != null
        && uri.getRawAuthority().matches(".*:\\d*$") && !uri.getRawAuthority().endsWith("]"))) {
      throw new IllegalArgumentException("endpoint's port must be between 1 and 65535: " + endpoint);
    }
    boolean ssl = scheme.equalsIgnoreCase("https");
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    while (path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    for (String suffix : OPERATION_SUFFIXES) {
      if (path.endsWith("/v1" + suffix)) {
        path = path.substring(0, path.length() - suffix.length());
        break;
      }
    }
    if (path.endsWith("/v1")) {
      path = path.substring(0, path.length() - 3);
    }
    int port = uri.getPort() > 0 ? uri.getPort() : (ssl ? 443 : 80);
    return new UpstreamTarget(ssl, uri.getHost(), port, path);
  }

  /** The normalised base URL, e.g. {@code http://host:8000}. */
  public String baseUrl() {
    return (ssl ? "https" : "http") + "://" + host + ":" + port + basePath;
  }

  /** The request URI of an OpenAI operation, e.g. {@code uri("/v1/chat/completions")}. */
  public String uri(String operationPath) {
    return basePath.isEmpty() ? operationPath : basePath + operationPath;
  }
}
