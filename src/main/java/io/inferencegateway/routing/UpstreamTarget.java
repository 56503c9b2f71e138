package io.inferencegateway.routing;

import java.net.URI;
import java.net.URISyntaxException;

/**
 * Where a replica's vLLM server is: scheme, host, port and the path prefix before {@code /v1}.
 * The endpoint may be the base URL ({@code http://host:8000}), the OpenAI base ({@code http://host:8000/v1}), or a
 * full operation URL as the toolkit stored it ({@code http://host:8000/v1/chat/completions}); all reduce to the base.
 */
public record UpstreamTarget(boolean ssl, String host, int port, String basePath) {

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
