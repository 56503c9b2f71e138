package io.inferencegateway.routing;

import io.inferencegateway.config.Addresses;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the {@link ModelRegistry} true: loads it at start and reloads it whenever a model or replica change is
 * published on {@link Addresses#MODELS_CHANGED}.
 */
public final class ReplicaRouterVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(ReplicaRouterVerticle.class);

  private final ModelRegistry registry;

  public ReplicaRouterVerticle(ModelRegistry registry) {
    this.registry = registry;
  }

  @Override
  public Future<?> start() {
    MessageConsumer<JsonObject> consumer = vertx.eventBus().consumer(Addresses.MODELS_CHANGED,
        msg -> registry.reload().onFailure(err -> log.warn("Could not reload models: {}", err.getMessage())));
    return Future.join(consumer.completion(), registry.reload().onSuccess(v ->
        log.info("Loaded {} model(s) with {} replica(s)", registry.models().size(), registry.replicas().size())));
  }
}
