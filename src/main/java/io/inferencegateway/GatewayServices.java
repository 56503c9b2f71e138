package io.inferencegateway;

import io.inferencegateway.auth.AdminAuth;
import io.inferencegateway.auth.KeyCache;
import io.inferencegateway.cluster.ClusterView;
import io.inferencegateway.config.Announcements;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.ingress.ClientLimits;
import io.inferencegateway.ingress.AdmissionGate;
import io.inferencegateway.limits.RateLimiter;
import io.inferencegateway.metrics.GatewayMeters;
import io.inferencegateway.routing.ModelRegistry;
import io.inferencegateway.routing.ReplicaRouter;
import io.inferencegateway.store.ApiKeyStore;
import io.inferencegateway.store.Database;
import io.inferencegateway.store.MetricsStore;
import io.inferencegateway.store.ModelStore;
import io.inferencegateway.store.SettingsStore;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;

import java.time.Clock;
import java.util.function.Function;

/**
 * What the verticles share, built once by {@link GatewayApp} and handed to each verticle's constructor.
 * The hot-path pieces (key cache, model registry, router) are thread-safe snapshots read by every event loop.
 *
 * @param rateLimiters makes a rate limiter for the calling verticle (each ingress event loop gets its own Redis link)
 * @param clock the wall clock of the components that take one (the system's; tests move their own)
 * @param clientLimits the request body budget and connection limits shared by every ingress event loop
 * @param admission fair admission: per-key concurrency and the queues of saturated models, shared by every event loop
 * @param cluster this instance's view of its cluster ({@link ClusterView#SINGLE} outside cluster mode)
 */
public record GatewayServices(
    GatewayConfig config,
    Database database,
    ApiKeyStore apiKeys,
    ModelStore models,
    MetricsStore metricsStore,
    SettingsStore settings,
    KeyCache keyCache,
    AdminAuth adminAuth,
    ModelRegistry registry,
    ReplicaRouter router,
    Announcements announcements,
    Function<Vertx, RateLimiter> rateLimiters,
    GatewayMeters meters,
    PrometheusMeterRegistry prometheus,
    Clock clock,
    ClientLimits clientLimits,
    AdmissionGate admission,
    ClusterView cluster) {

  /** A single instance (no cluster). */
  public GatewayServices(GatewayConfig config, Database database, ApiKeyStore apiKeys, ModelStore models,
                         MetricsStore metricsStore, SettingsStore settings, KeyCache keyCache, AdminAuth adminAuth,
                         ModelRegistry registry, ReplicaRouter router, Announcements announcements,
                         Function<Vertx, RateLimiter> rateLimiters, GatewayMeters meters,
                         PrometheusMeterRegistry prometheus, Clock clock, ClientLimits clientLimits,
                         AdmissionGate admission) {
    this(config, database, apiKeys, models, metricsStore, settings, keyCache, adminAuth, registry, router, announcements,
        rateLimiters, meters, prometheus, clock, clientLimits, admission, ClusterView.SINGLE);
  }

  /** With the client limits and the fair admission the configuration asks for. */
  public GatewayServices(GatewayConfig config, Database database, ApiKeyStore apiKeys, ModelStore models,
                         MetricsStore metricsStore, SettingsStore settings, KeyCache keyCache, AdminAuth adminAuth,
                         ModelRegistry registry, ReplicaRouter router, Announcements announcements,
                         Function<Vertx, RateLimiter> rateLimiters, GatewayMeters meters,
                         PrometheusMeterRegistry prometheus, Clock clock, ClientLimits clientLimits) {
    this(config, database, apiKeys, models, metricsStore, settings, keyCache, adminAuth, registry, router, announcements,
        rateLimiters, meters, prometheus, clock, clientLimits, new AdmissionGate(config, registry, meters));
  }

  public GatewayServices(GatewayConfig config, Database database, ApiKeyStore apiKeys, ModelStore models,
                         MetricsStore metricsStore, SettingsStore settings, KeyCache keyCache, AdminAuth adminAuth,
                         ModelRegistry registry, ReplicaRouter router, Announcements announcements,
                         Function<Vertx, RateLimiter> rateLimiters, GatewayMeters meters,
                         PrometheusMeterRegistry prometheus, Clock clock) {
    this(config, database, apiKeys, models, metricsStore, settings, keyCache, adminAuth, registry, router, announcements,
        rateLimiters, meters, prometheus, clock, new ClientLimits(config.http().clients(), prometheus));
  }
}
