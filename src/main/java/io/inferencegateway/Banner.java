package io.inferencegateway;

/** What the gateway prints when it is ready: where to go and, once, the secrets it generated. */
final class Banner {

  private Banner() {}

  static String host(GatewayApp app) {
    String h = app.services().config().http().host();
    return h.equals("0.0.0.0") || h.equals("::") ? "localhost" : h;
  }

  static void printRun(GatewayApp app) {
    String base = "http://" + host(app) + ":" + app.port();
    StringBuilder out = new StringBuilder()
        .append("\nInference gateway ready\n")
        .append("  Console:          ").append(base).append("/\n")
        .append("  OpenAI base URL:  ").append(base).append("/v1\n")
        .append("  Admin API:        ").append(base).append("/api/v1 (described at /api/v1/openapi.json)\n")
        .append("  Prometheus:       ").append(base).append("/metrics\n");
    if (app.generatedAdminKey() != null) {
      out.append("  Admin API key:    ").append(app.generatedAdminKey())
          .append("\n                    (generated now and shown only this once; only its hash is stored)\n");
    }
    System.out.println(out);
  }
}
