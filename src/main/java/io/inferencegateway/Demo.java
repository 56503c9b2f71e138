package io.inferencegateway;

import io.inferencegateway.auth.ApiKeys;
import io.inferencegateway.config.Addresses;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.hyperstack.ReplicaKeys;
import io.inferencegateway.simulator.SimulatorSettings;
import io.inferencegateway.simulator.SimulatorVerticle;
import io.inferencegateway.store.ApiKeyStore;
import io.inferencegateway.store.ModelRow;
import io.inferencegateway.store.ModelStore;
import io.inferencegateway.store.ReplicaRow;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code demo}: the gateway plus the built-in vLLM simulator, both preset models registered with one replica each,
 * content stored for the Monitoring page, and a fresh demo API key. Everything a newcomer needs to try the gateway
 * with any OpenAI SDK, without a GPU.
 */
final class Demo {

  static final List<String> PRESET_MODELS = List.of(
      "NousResearch/Meta-Llama-3.1-8B-Instruct",
      "microsoft/Phi-3-medium-128k-instruct");

  private Demo() {}

  static Future<GatewayApp> start(GatewayConfig fileConfig, int simulatorPort) {
    GatewayConfig.Usage u = fileConfig.usage();
    GatewayConfig config = fileConfig.withUsage(new GatewayConfig.Usage(u.batchSize(), u.flushIntervalMs(),
        u.memoryBufferRecords(), true, u.contentMaxChars()));
    String consolePassword = config.appPassword() != null ? null : randomPassword();
    if (consolePassword != null) {
      config = config.withAppPassword(consolePassword);
    }
    GatewayConfig finalConfig = config;
    return GatewayApp.start(config, GatewayApp.AdminKeyPolicy.GENERATE_FRESH, ControlPlane.mounter(config))
        .compose(app -> {
          // a chatty simulator: tokens arrive one by one, so streaming is visible in the Playground
          SimulatorSettings settings = SimulatorSettings.defaults(PRESET_MODELS)
              .merge(new JsonObject().put("tokensPerAnswer", 48).put("timeToFirstTokenMs", 120).put("interTokenMs", 30));
          // like a real replica, the simulator answers /v1 only with its key, which only the gateway holds
          String replicaKey = ReplicaKeys.generate();
          SimulatorVerticle simulator = new SimulatorVerticle(simulatorPort, settings, "127.0.0.1", replicaKey);
          return app.vertx().deployVerticle(simulator)
              .recover(err -> Future.failedFuture(new IllegalStateException("the simulator could not listen on port "
                  + simulatorPort + " (" + err.getMessage() + "); choose another with --simulator-port")))
              .compose(id -> register(app, "http://127.0.0.1:" + simulator.actualPort(), replicaKey))
              .compose(v -> createDemoKey(app))
              .map(demoKey -> {
                print(app, finalConfig, consolePassword, demoKey, simulator.actualPort());
                return app;
              })
              .recover(err -> app.close().transform(ar -> Future.failedFuture(err)));
        });
  }

  /**
   * Registers both preset models with a replica at the simulator, with the simulator's key (a replica already there
   * gets this run's key); harmless when they already exist.
   */
  static Future<Void> register(GatewayApp app, String endpoint, String apiKey) {
    ModelStore models = app.services().models();
    Future<Void> chain = Future.succeededFuture();
    for (String name : PRESET_MODELS) {
      chain = chain.compose(v -> models.modelByName(name)
          .compose(found -> found.isPresent() ? Future.succeededFuture(found.get()) : models.insertModel(name))
          .compose(model -> ensureReplica(models, model, endpoint, apiKey)));
    }
    return chain.compose(v -> app.services().announcements().publish(Addresses.MODELS_CHANGED, new JsonObject()));
  }

  private static Future<Void> ensureReplica(ModelStore models, ModelRow model, String endpoint, String apiKey) {
    return models.replicasOf(model.id()).compose(replicas -> {
      List<Future<Boolean>> stale = new ArrayList<>();
      boolean present = false;
      for (ReplicaRow r : replicas) {
        if (endpoint.equals(r.endpoint())) {
          present = true;
          stale.add(models.updateApiKey(r.id(), apiKey));
        } else if (r.endpoint() != null && r.endpoint().startsWith("http://127.0.0.1:") && r.vmId() == null) {
          stale.add(models.deleteReplica(r.id())); // a simulator of an earlier demo on another port
        }
      }
      Future<Void> cleaned = Future.all(stale).mapEmpty();
      return present ? cleaned
          : cleaned.compose(v -> models.insertReplica(ModelStore.NewReplica.byEndpoint(model.id(), endpoint, null,
              apiKey), List.of()))
              .mapEmpty();
    });
  }

  private static Future<String> createDemoKey(GatewayApp app) {
    ApiKeys.Generated key = ApiKeys.generate();
    return app.services().apiKeys()
        .insert(new ApiKeyStore.NewApiKey("demo", key.hash(), key.prefix(), 600, null, null, null))
        .compose(row -> app.services().announcements().publish(Addresses.KEYS_CHANGED,
            new JsonObject().put("id", row.id())))
        .map(v -> key.plaintext());
  }

  private static void print(GatewayApp app, GatewayConfig config, String consolePassword, String demoKey, int simPort) {
    String base = "http://" + Banner.host(app) + ":" + app.port();
    StringBuilder out = new StringBuilder()
        .append("\nInference gateway demo ready (vLLM simulator on port ").append(simPort).append(")\n")
        .append("  Console:          ").append(base).append("/\n")
        .append("  OpenAI base URL:  ").append(base).append("/v1\n")
        .append("  Admin API:        ").append(base).append("/api/v1 (described at /api/v1/openapi.json)\n")
        .append("  Models:           ").append(String.join(", ", PRESET_MODELS))
        .append(" (the simulator answers /v1 only with its API key, which only the gateway holds)\n")
        .append("  Demo API key:     ").append(demoKey).append('\n');
    if (app.generatedAdminKey() != null) {
      out.append("  Admin API key:    ").append(app.generatedAdminKey()).append('\n');
    } else {
      out.append("  Admin API key:    (from ADMIN_API_KEY)\n");
    }
    out.append("  Console password: ").append(consolePassword != null ? consolePassword : "(from APP_PASSWORD)").append('\n')
        .append("\nTry it:\n")
        .append("  curl ").append(base).append("/v1/chat/completions \\\n")
        .append("    -H 'Authorization: Bearer ").append(demoKey).append("' -H 'Content-Type: application/json' \\\n")
        .append("    -d '{\"model\": \"").append(PRESET_MODELS.get(0))
        .append("\", \"messages\": [{\"role\": \"user\", \"content\": \"Hello!\"}]}'\n");
    System.out.println(out);
  }

  private static String randomPassword() {
    String alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    SecureRandom random = new SecureRandom();
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 16; i++) {
      sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return sb.toString();
  }
}
