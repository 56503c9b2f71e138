package io.inferencegateway.config;

import io.vertx.core.json.JsonObject;

import java.util.Map;

/**
 * Everything the gateway can be told, read once at start-up. Defaults live in {@code conf/config.json};
 * the environment variables documented in the README override them (see {@link #withEnvironment(Map)}).
 */
public record GatewayConfig(
    Http http,
    String adminApiKey,
    String appPassword,
    Database database,
    Redis redis,
    Limits limits,
    Usage usage,
    Upstream upstream,
    Health health,
    Hyperstack hyperstack,
    Router router,
    Console console,
    Bridge bridge) {

  public record Http(String host, int port, int instances, long maxBodyBytes) {}

  /** {@code url} null means the embedded H2 database under {@code dataDir}. */
  public record Database(String url, String dataDir, int poolSize) {}

  /**
   * {@code url} null means in-process limits. {@code onFailure}: local | open | closed. {@code keyPrefix} starts
   * every Redis key, so several gateway deployments can share one Redis.
   */
  public record Redis(String url, String onFailure, long timeoutMs, String keyPrefix) {

    public Redis(String url, String onFailure, long timeoutMs) {
      this(url, onFailure, timeoutMs, "igw");
    }
  }

  /**
   * {@code prefetchFraction}: the share of a key's requests per minute that one event loop may take from Redis ahead of
   * use, so that busy keys skip the Redis round trip (0: every request is checked in Redis); {@code creditTtlMs}: how
   * long unused credit is kept before it goes back. See {@code RedisRateLimiter}.
   */
  public record Limits(int defaultRpm, long tokenDebitFlushMs, double prefetchFraction, long creditTtlMs) {}

  public record Usage(int batchSize, long flushIntervalMs, int memoryBufferRecords,
                      boolean storeContent, int contentMaxChars) {}

  /**
   * Timeouts towards vLLM. The connect timeout covers waiting for a pooled connection too; it is above Linux's third
   * SYN retransmit (1 s, 3 s, 7 s) so that a burst of new streams that briefly overflows a replica's accept queue waits
   * instead of failing and opening the replica's breaker. Refused connections fail at once whatever it is.
   */
  public record Upstream(long connectTimeoutMs, long firstByteTimeoutMs, long idleTimeoutMs,
                         long totalTimeoutMs, int maxConnectionsPerReplica) {}

  public record Health(long intervalMs, long timeoutMs) {}

  /**
   * Deploying replicas on Hyperstack ({@code apiKey} null: off).
   *
   * @param gatewayCidr who may reach a provisioned replica's vLLM port: the gateway's public address as a CIDR
   *     ({@code 203.0.113.7/32}); the default {@code 0.0.0.0/0} opens it to everyone
   * @param pollIntervalMs how often a VM being provisioned is looked at (status, IP, vLLM health)
   * @param vmTimeoutMs from the replica's creation until its VM must be ACTIVE with an IP
   * @param healthTimeoutMs from the VM becoming ACTIVE until vLLM must answer {@code /health} and list the model
   * @param requestTimeoutMs per call to the Hyperstack API
   */
  public record Hyperstack(String apiKey, String baseUrl, String gatewayCidr, long pollIntervalMs, long vmTimeoutMs,
                           long healthTimeoutMs, long requestTimeoutMs) {

    public static final String DEFAULT_BASE_URL = "https://infrahub-api.nexgencloud.com/v1";

    public Hyperstack(String apiKey, String baseUrl) {
      this(apiKey, baseUrl, "0.0.0.0/0", 10_000, 20 * 60_000L, 30 * 60_000L, 30_000);
    }

    public Hyperstack withApiKey(String key) {
      return new Hyperstack(key, baseUrl, gatewayCidr, pollIntervalMs, vmTimeoutMs, healthTimeoutMs, requestTimeoutMs);
    }

    @Override
    public String toString() {
      // Never print the key: this string can end up in logs.
      return "Hyperstack[apiKey=" + (apiKey == null ? "unset" : "set") + ", baseUrl=" + baseUrl + ", gatewayCidr="
          + gatewayCidr + ", pollIntervalMs=" + pollIntervalMs + ", vmTimeoutMs=" + vmTimeoutMs + ", healthTimeoutMs="
          + healthTimeoutMs + ", requestTimeoutMs=" + requestTimeoutMs + "]";
    }
  }

  /**
   * Console sessions: how long a token from {@code POST /api/v1/auth/login} lives, and how many wrong passwords one
   * address may try before each further failure makes it wait (1 s, 2 s, 4 s ... up to 15 min).
   */
  public record Console(long sessionTtlMinutes, int loginFreeAttempts) {}

  /**
   * Vert.x's TCP event-bus bridge for the metrics feed (outbound only, token required; the SockJS bridge at
   * {@code /eventbus} is always on). {@code tcpPort} 0 = off.
   */
  public record Bridge(int tcpPort, String tcpHost) {}

  /**
   * How replicas are chosen and protected.
   *
   * @param strategy default strategy: p2c (power of two choices on load), round-robin, least-in-flight, weighted
   * @param prefixAffinity prefer the replica that served the same prompt prefix (or session) before, bounded by load
   * @param affinityPrefixChars how much of the conversation's start forms the prefix key
   * @param maxAttempts replicas tried per request (fail-over happens only before the client got a byte)
   * @param loadStaleMs scraped vLLM load older than this is ignored
   * @param scrapeIntervalMs how often each replica's /metrics is scraped
   */
  public record Router(String strategy, boolean prefixAffinity, int affinityPrefixChars, int maxAttempts,
                       long loadStaleMs, long scrapeIntervalMs, Breaker breaker) {}

  /**
   * One circuit breaker per replica: opens after {@code consecutiveFailures} failures in a row, or when at least
   * {@code failureRatio} of the last {@code window} calls failed (once {@code minCalls} were seen); stays open
   * {@code openMs} (doubling on each failed probe, up to {@code maxOpenMs}, with +/- {@code jitter}), then lets one
   * probe through.
   */
  public record Breaker(int consecutiveFailures, double failureRatio, int window, int minCalls, long openMs,
                        long maxOpenMs, double jitter) {}

  public static GatewayConfig fromJson(JsonObject json) {
    JsonObject http = section(json, "http");
    JsonObject db = section(json, "database");
    JsonObject redis = section(json, "redis");
    JsonObject limits = section(json, "limits");
    JsonObject usage = section(json, "usage");
    JsonObject up = section(json, "upstream");
    JsonObject health = section(json, "health");
    JsonObject hs = section(json, "hyperstack");
    JsonObject console = section(json, "console");
    JsonObject bridge = section(json, "bridge");
    JsonObject router = section(json, "router");
    JsonObject breaker = router.getJsonObject("breaker") == null ? new JsonObject() : router.getJsonObject("breaker");
    String strategy = router.getString("strategy", "p2c");
    if (!java.util.Set.of("p2c", "round-robin", "least-in-flight", "weighted").contains(strategy)) {
      throw new IllegalArgumentException("router.strategy must be p2c, round-robin, least-in-flight or weighted");
    }
    String onFailure = redis.getString("onFailure", "local");
    if (!onFailure.equals("local") && !onFailure.equals("open") && !onFailure.equals("closed")) {
      throw new IllegalArgumentException("redis.onFailure must be local, open or closed, not " + onFailure);
    }
    return new GatewayConfig(
        new Http(http.getString("host", "0.0.0.0"), http.getInteger("port", 5001),
            http.getInteger("instances", 0), http.getLong("maxBodyBytes", 10L * 1024 * 1024)),
        blankToNull(json.getString("adminApiKey")),
        blankToNull(json.getString("appPassword")),
        new Database(blankToNull(db.getString("url")), db.getString("dataDir", "./data"), db.getInteger("poolSize", 8)),
        new Redis(blankToNull(redis.getString("url")), onFailure, redis.getLong("timeoutMs", 250L),
            redis.getString("keyPrefix", "igw")),
        new Limits(limits.getInteger("defaultRpm", 160), limits.getLong("tokenDebitFlushMs", 100L),
            bounded("limits.prefetchFraction", limits.getDouble("prefetchFraction", 0.01), 0, 0.1),
            (long) bounded("limits.creditTtlMs", limits.getLong("creditTtlMs", 1000L), 100, 60_000)),
        new Usage(usage.getInteger("batchSize", 500), usage.getLong("flushIntervalMs", 200L),
            usage.getInteger("memoryBufferRecords", 20000), usage.getBoolean("storeContent", false),
            contentMaxChars(usage.getInteger("contentMaxChars", 8192))),
        new Upstream(up.getLong("connectTimeoutMs", 10_000L), up.getLong("firstByteTimeoutMs", 120_000L),
            up.getLong("idleTimeoutMs", 60_000L), up.getLong("totalTimeoutMs", 900_000L),
            up.getInteger("maxConnectionsPerReplica", 4096)),
        new Health(health.getLong("intervalMs", 5000L), health.getLong("timeoutMs", 2000L)),
        hyperstack(hs),
        new Router(strategy, router.getBoolean("prefixAffinity", true), router.getInteger("affinityPrefixChars", 512),
            router.getInteger("maxAttempts", 3), router.getLong("loadStaleMs", 3000L),
            router.getLong("scrapeIntervalMs", 1000L),
            new Breaker(breaker.getInteger("consecutiveFailures", 5), breaker.getDouble("failureRatio", 0.5),
                breaker.getInteger("window", 20), breaker.getInteger("minCalls", 10), breaker.getLong("openMs", 5000L),
                breaker.getLong("maxOpenMs", 60_000L), breaker.getDouble("jitter", 0.2))),
        new Console(console.getLong("sessionTtlMinutes", 720L), console.getInteger("loginFreeAttempts", 5)),
        new Bridge(bridge.getInteger("tcpPort", 0), bridge.getString("tcpHost", "127.0.0.1")));
  }

  /** Applies the documented environment variables on top of the file's values. */
  public GatewayConfig withEnvironment(Map<String, String> env) {
    GatewayConfig c = this;
    if (present(env, "HTTP_PORT")) {
      c = c.withHttp(new Http(c.http.host, parsePort(env.get("HTTP_PORT")), c.http.instances, c.http.maxBodyBytes));
    }
    if (present(env, "ADMIN_API_KEY")) {
      c = new GatewayConfig(c.http, env.get("ADMIN_API_KEY").trim(), c.appPassword, c.database, c.redis, c.limits,
          c.usage, c.upstream, c.health, c.hyperstack, c.router, c.console, c.bridge);
    }
    if (present(env, "APP_PASSWORD")) {
      c = new GatewayConfig(c.http, c.adminApiKey, env.get("APP_PASSWORD"), c.database, c.redis, c.limits,
          c.usage, c.upstream, c.health, c.hyperstack, c.router, c.console, c.bridge);
    }
    if (present(env, "DATABASE_URL") || present(env, "DATA_DIR")) {
      c = c.withDatabase(new Database(
          present(env, "DATABASE_URL") ? env.get("DATABASE_URL").trim() : c.database.url,
          present(env, "DATA_DIR") ? env.get("DATA_DIR").trim() : c.database.dataDir,
          c.database.poolSize));
    }
    if (present(env, "REDIS_URL")) {
      c = c.withRedis(new Redis(env.get("REDIS_URL").trim(), c.redis.onFailure, c.redis.timeoutMs, c.redis.keyPrefix));
    }
    if (present(env, "HYPERSTACK_API_KEY")) {
      c = new GatewayConfig(c.http, c.adminApiKey, c.appPassword, c.database, c.redis, c.limits, c.usage,
          c.upstream, c.health, c.hyperstack.withApiKey(env.get("HYPERSTACK_API_KEY").trim()), c.router,
          c.console, c.bridge);
    }
    return c;
  }

  public GatewayConfig withHttp(Http http) {
    return new GatewayConfig(http, adminApiKey, appPassword, database, redis, limits, usage, upstream, health, hyperstack, router,
        console, bridge);
  }

  public GatewayConfig withAdminApiKey(String key) {
    return new GatewayConfig(http, key, appPassword, database, redis, limits, usage, upstream, health, hyperstack, router,
        console, bridge);
  }

  public GatewayConfig withAppPassword(String password) {
    return new GatewayConfig(http, adminApiKey, password, database, redis, limits, usage, upstream, health, hyperstack, router,
        console, bridge);
  }

  public GatewayConfig withDatabase(Database database) {
    return new GatewayConfig(http, adminApiKey, appPassword, database, redis, limits, usage, upstream, health, hyperstack, router,
        console, bridge);
  }

  public GatewayConfig withRedis(Redis redis) {
    return new GatewayConfig(http, adminApiKey, appPassword, database, redis, limits, usage, upstream, health, hyperstack, router,
        console, bridge);
  }

  public GatewayConfig withUsage(Usage usage) {
    return new GatewayConfig(http, adminApiKey, appPassword, database, redis, limits, usage, upstream, health, hyperstack, router,
        console, bridge);
  }

  public GatewayConfig withUpstream(Upstream upstream) {
    return new GatewayConfig(http, adminApiKey, appPassword, database, redis, limits, usage, upstream, health, hyperstack, router,
        console, bridge);
  }

  public GatewayConfig withHealth(Health health) {
    return new GatewayConfig(http, adminApiKey, appPassword, database, redis, limits, usage, upstream, health, hyperstack, router,
        console, bridge);
  }

  public GatewayConfig withRouter(Router router) {
    return new GatewayConfig(http, adminApiKey, appPassword, database, redis, limits, usage, upstream, health, hyperstack, router,
        console, bridge);
  }

  public GatewayConfig withHyperstack(Hyperstack hyperstack) {
    return new GatewayConfig(http, adminApiKey, appPassword, database, redis, limits, usage, upstream, health, hyperstack, router,
        console, bridge);
  }

  public GatewayConfig withBridge(Bridge bridge) {
    return new GatewayConfig(http, adminApiKey, appPassword, database, redis, limits, usage, upstream, health, hyperstack,
        router, console, bridge);
  }

  public GatewayConfig withConsole(Console console) {
    return new GatewayConfig(http, adminApiKey, appPassword, database, redis, limits, usage, upstream, health, hyperstack, router,
        console, bridge);
  }

  private static Hyperstack hyperstack(JsonObject hs) {
    Hyperstack d = new Hyperstack(null, Hyperstack.DEFAULT_BASE_URL);
    String baseUrl = hs.getString("baseUrl", d.baseUrl());
    while (baseUrl.endsWith("/")) {
      baseUrl = baseUrl.substring(0, baseUrl.length() - 1);
    }
    return new Hyperstack(blankToNull(hs.getString("apiKey")), baseUrl,
        hs.getString("gatewayCidr", d.gatewayCidr()), positive(hs, "pollIntervalMs", d.pollIntervalMs()),
        positive(hs, "vmTimeoutMs", d.vmTimeoutMs()), positive(hs, "healthTimeoutMs", d.healthTimeoutMs()),
        positive(hs, "requestTimeoutMs", d.requestTimeoutMs()));
  }

  /**
   * Stored content goes to TEXT columns (65,535 bytes), so more than 16,383 characters (4 bytes each at worst) could
   * not be stored whole anyway; a bound also keeps every usage row far below MariaDB's max_allowed_packet.
   */
  static final int MAX_CONTENT_CHARS = 16_383;

  private static double bounded(String name, double v, double min, double max) {
    if (!(v >= min && v <= max)) {
      throw new IllegalArgumentException(name + " must be between " + num(min) + " and " + num(max) + ", not " + num(v));
    }
    return v;
  }

  private static String num(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }

  private static int contentMaxChars(int v) {
    if (v < 0 || v > MAX_CONTENT_CHARS) {
      throw new IllegalArgumentException("usage.contentMaxChars must be between 0 and " + MAX_CONTENT_CHARS
          + " (metrics.input and metrics.choices are TEXT columns), not " + v);
    }
    return v;
  }

  private static long positive(JsonObject section, String name, long fallback) {
    long v = section.getLong(name, fallback);
    if (v <= 0) {
      throw new IllegalArgumentException(name + " must be positive, not " + v);
    }
    return v;
  }

  private static JsonObject section(JsonObject json, String name) {
    JsonObject s = json.getJsonObject(name);
    return s == null ? new JsonObject() : s;
  }

  private static boolean present(Map<String, String> env, String name) {
    String v = env.get(name);
    return v != null && !v.isBlank();
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }

  private static int parsePort(String value) {
    try {
      int port = Integer.parseInt(value.trim());
      if (port < 0 || port > 65535) {
        throw new NumberFormatException();
      }
      return port;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("HTTP_PORT must be a port number, not '" + value + "'");
    }
  }

  @Override
  public String toString() {
    // Never print secrets: this string can end up in logs.
    return "GatewayConfig[http=" + http + ", database=" + (database.url == null ? "embedded:" + database.dataDir : "mysql")
        + ", redis=" + (redis.url == null ? "none" : "configured") + ", adminApiKey=" + (adminApiKey == null ? "unset" : "set")
        + ", hyperstack=" + (hyperstack.apiKey == null ? "unset" : "set") + "]";
  }
}
