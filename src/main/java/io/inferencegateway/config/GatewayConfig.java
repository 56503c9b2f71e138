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
    Bridge bridge,
    Backup backup,
    Retention retention,
    Admission admission,
    Cluster cluster,
    Security security) {

  /** Without a security section: {@link Security#defaults()}. */
  public GatewayConfig(Http http, String adminApiKey, String appPassword, Database database, Redis redis, Limits limits,
                       Usage usage, Upstream upstream, Health health, Hyperstack hyperstack, Router router,
                       Console console, Bridge bridge, Backup backup, Retention retention, Admission admission,
                       Cluster cluster) {
    this(http, adminApiKey, appPassword, database, redis, limits, usage, upstream, health, hyperstack, router, console,
        bridge, backup, retention, admission, cluster, Security.defaults());
  }

  /** Without an admission section: fair admission off (its defaults); a single instance (no cluster). */
  public GatewayConfig(Http http, String adminApiKey, String appPassword, Database database, Redis redis, Limits limits,
                       Usage usage, Upstream upstream, Health health, Hyperstack hyperstack, Router router,
                       Console console, Bridge bridge, Backup backup, Retention retention) {
    this(http, adminApiKey, appPassword, database, redis, limits, usage, upstream, health, hyperstack, router, console,
        bridge, backup, retention, Admission.OFF);
  }

  /** A single instance (no cluster). */
  public GatewayConfig(Http http, String adminApiKey, String appPassword, Database database, Redis redis, Limits limits,
                       Usage usage, Upstream upstream, Health health, Hyperstack hyperstack, Router router,
                       Console console, Bridge bridge, Backup backup, Retention retention, Admission admission) {
    this(http, adminApiKey, appPassword, database, redis, limits, usage, upstream, health, hyperstack, router, console,
        bridge, backup, retention, admission, Cluster.SINGLE);
  }

  /**
   * Secrets at rest and who may read the operational endpoints.
   *
   * @param secretsKey encrypts the secrets the database holds (replica API keys; {@code SECRETS_KEY}); null: derived
   *     from the admin key, or (no admin key configured either) generated and kept in the database, with a warning
   * @param secretsKeyPrevious the key before a rotation ({@code SECRETS_KEY_PREVIOUS}): still decrypts, and what it
   *     encrypted is re-encrypted with {@code secretsKey} at start-up
   * @param metricsToken bearer token that {@code /metrics} accepts besides the admin key ({@code METRICS_TOKEN})
   * @param metricsPort above 0: {@code /metrics} is served on this port only, at {@code metricsHost}, and needs no
   *     token there unless {@code metricsToken} is set ({@code METRICS_PORT})
   * @param metricsHost the address {@code metricsPort} listens on
   */
  public record Security(String secretsKey, String secretsKeyPrevious, String metricsToken, int metricsPort,
                         String metricsHost) {

    public static Security defaults() {
      return new Security(null, null, null, 0, "127.0.0.1");
    }

    public Security withSecretsKeys(String key, String previous) {
      return new Security(key, previous, metricsToken, metricsPort, metricsHost);
    }

    public Security withMetrics(String token, int port, String host) {
      return new Security(secretsKey, secretsKeyPrevious, token, port, host);
    }

    @Override
    public String toString() {
      // Never print the keys: this string can end up in logs.
      return "Security[secretsKey=" + (secretsKey == null ? "unset" : "set") + ", secretsKeyPrevious="
          + (secretsKeyPrevious == null ? "unset" : "set") + ", metricsToken=" + (metricsToken == null ? "unset" : "set")
          + ", metricsPort=" + metricsPort + ", metricsHost=" + metricsHost + "]";
    }
  }

  /**
   * The HTTP server clients talk to (OpenAI API, admin API, console, {@code /metrics}).
   *
   * @param clients what one client, and all of them together, may hold before being served
   * @param tls TLS on the port ({@link Tls#enabled()}), with the certificate reloaded when its files change
   * @param drainSeconds on SIGTERM, how long requests in flight may take to finish (setting
   *     {@code shutdown.drainSeconds}, env {@code SHUTDOWN_DRAIN_SECONDS}); streams still running then end with an
   *     error event
   * @param transport the network transport ({@code http.transport}, env {@code NETWORK_TRANSPORT}): auto, io_uring,
   *     epoll or nio ({@link NetworkTransport})
   */
  public record Http(String host, int port, int instances, long maxBodyBytes, Clients clients, Tls tls,
                     int drainSeconds, String transport) {

    public static final int DEFAULT_DRAIN_SECONDS = 30;

    public Http {
      transport = NetworkTransport.validName(transport); // a name that is no transport fails at start
    }

    public Http(String host, int port, int instances, long maxBodyBytes) {
      this(host, port, instances, maxBodyBytes, Clients.DEFAULTS, Tls.OFF, DEFAULT_DRAIN_SECONDS, NetworkTransport.AUTO);
    }

    public Http(String host, int port, int instances, long maxBodyBytes, int drainSeconds) {
      this(host, port, instances, maxBodyBytes, Clients.DEFAULTS, Tls.OFF, drainSeconds, NetworkTransport.AUTO);
    }

    public Http(String host, int port, int instances, long maxBodyBytes, Clients clients, Tls tls) {
      this(host, port, instances, maxBodyBytes, clients, tls, DEFAULT_DRAIN_SECONDS, NetworkTransport.AUTO);
    }

    public Http withPort(int port) {
      return new Http(host, port, instances, maxBodyBytes, clients, tls, drainSeconds, transport);
    }

    public Http withClients(Clients clients) {
      return new Http(host, port, instances, maxBodyBytes, clients, tls, drainSeconds, transport);
    }

    public Http withTls(Tls tls) {
      return new Http(host, port, instances, maxBodyBytes, clients, tls, drainSeconds, transport);
    }

    public Http withDrainSeconds(int seconds) {
      return new Http(host, port, instances, maxBodyBytes, clients, tls, seconds, transport);
    }

    public Http withTransport(String transport) {
      return new Http(host, port, instances, maxBodyBytes, clients, tls, drainSeconds, transport);
    }
  }

  /**
   * Limits on clients, so that no one (authenticated or not) can make the gateway hold much on their behalf.
   *
   * @param bodyBudgetBytes request bodies being read or held by requests in progress, all clients together; beyond it
   *     requests get 503 {@code server_busy} with Retry-After
   * @param bodyBudgetPerKeyBytes the most of that budget the requests of one API key (or the admin API) may hold, so
   *     that one key sending slowly cannot starve the others
   * @param requestDeadlineMs a request's head (from the connection's opening, for its first request) and body must
   *     have arrived within this, else 408 and the connection is closed
   * @param idleTimeoutMs a client connection with no request in progress for this long is closed (0: never); a request
   *     whose answer takes longer keeps it open
   * @param maxConnections client connections open at once, in all; more are closed as they arrive (0: no limit)
   * @param maxConnectionsPerAddress client connections from one IP address at once (0: no limit; behind a load
   *     balancer every connection comes from its address)
   * @param h2c HTTP/2 over cleartext (prior knowledge or upgrade); with TLS, HTTP/2 is negotiated through ALPN anyway
   */
  public record Clients(long bodyBudgetBytes, long bodyBudgetPerKeyBytes, long requestDeadlineMs, long idleTimeoutMs,
                        int maxConnections, int maxConnectionsPerAddress, boolean h2c) {

    public static final Clients DEFAULTS =
        new Clients(256L * 1024 * 1024, 64L * 1024 * 1024, 30_000, 60_000, 20_000, 1000, false);
  }

  /**
   * TLS on the HTTP port, from PEM files ({@code certFile} null: plain HTTP). The files are looked at every
   * {@code reloadCheckMs} and a changed, matching pair is served to new connections (open ones keep theirs).
   *
   * @param redirectPort a plain-HTTP port answering every request with 308 to the same path over https (0: none)
   * @param hstsMaxAgeSeconds {@code Strict-Transport-Security: max-age} sent on every answer over TLS (0: no header)
   */
  public record Tls(String certFile, String keyFile, int redirectPort, long reloadCheckMs, long hstsMaxAgeSeconds) {

    public static final Tls OFF = new Tls(null, null, 0, 10_000, 31_536_000);

    public boolean enabled() {
      return certFile != null;
    }

    public Tls withFiles(String certFile, String keyFile) {
      return new Tls(certFile, keyFile, redirectPort, reloadCheckMs, hstsMaxAgeSeconds);
    }
  }

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
  public record Limits(int defaultRpm, long tokenDebitFlushMs, double prefetchFraction, long creditTtlMs,
                       int reserveTokens) {

    public Limits(int defaultRpm, long tokenDebitFlushMs, double prefetchFraction, long creditTtlMs) {
      this(defaultRpm, tokenDebitFlushMs, prefetchFraction, creditTtlMs, 1024);
    }
  }

  /** @param journal the append-only file every record reaches before the database ({@code usage.journal}) */
  public record Usage(int batchSize, long flushIntervalMs, int memoryBufferRecords,
                      boolean storeContent, int contentMaxChars, Journal journal) {

    public Usage(int batchSize, long flushIntervalMs, int memoryBufferRecords, boolean storeContent,
                 int contentMaxChars) {
      this(batchSize, flushIntervalMs, memoryBufferRecords, storeContent, contentMaxChars, Journal.DEFAULTS);
    }

    public Usage withJournal(Journal journal) {
      return new Usage(batchSize, flushIntervalMs, memoryBufferRecords, storeContent, contentMaxChars, journal);
    }
  }

  /**
   * The usage journal under {@code DATA_DIR} ({@code metrics.UsageJournal}).
   *
   * @param fsync none (the OS writes when it likes: survives a killed process, not a power cut), interval (every
   *     {@code fsyncIntervalMs}) or always (every group commit)
   * @param groupCommitMs records are appended together at most this often; a killed process loses at most this long
   * @param maxBytes beyond this many bytes waiting for the database, new records are dropped (and counted)
   * @param segmentBytes the journal is a series of files of about this size; a file goes once all of it is stored
   */
  public record Journal(String fsync, long groupCommitMs, long fsyncIntervalMs, long maxBytes, long segmentBytes) {

    public static final Journal DEFAULTS = new Journal("interval", 50, 1000, 1L << 30, 64L << 20);

    public Journal {
      if (!java.util.Set.of("none", "interval", "always").contains(fsync)) {
        throw new IllegalArgumentException("usage.journal.fsync must be none, interval or always, not " + fsync);
      }
      bounded("usage.journal.groupCommitMs", groupCommitMs, 1, 10_000);
      bounded("usage.journal.fsyncIntervalMs", fsyncIntervalMs, 1, 600_000);
      bounded("usage.journal.segmentBytes", segmentBytes, 1 << 16, 1L << 40);
      bounded("usage.journal.maxBytes", maxBytes, segmentBytes, Long.MAX_VALUE);
    }
  }

  /**
   * Timeouts towards vLLM. The connect timeout covers waiting for a pooled connection too; it is above Linux's third
   * SYN retransmit (1 s, 3 s, 7 s) so that a burst of new streams that briefly overflows a replica's accept queue waits
   * instead of failing and opening the replica's breaker. Refused connections fail at once whatever it is.
   * A non-streamed answer comes whole, after the last token: its first-byte timeout is {@code firstByteTimeoutMs}
   * plus {@code firstBytePerTokenMs} per token of {@code max_tokens} (or of {@code limits.reserveTokens} when absent),
   * at most {@code totalTimeoutMs}.
   */
  public record Upstream(long connectTimeoutMs, long firstByteTimeoutMs, long idleTimeoutMs,
                         long totalTimeoutMs, int maxConnectionsPerReplica, String caFile,
                         long firstBytePerTokenMs) {

    public Upstream(long connectTimeoutMs, long firstByteTimeoutMs, long idleTimeoutMs, long totalTimeoutMs,
                    int maxConnectionsPerReplica) {
      this(connectTimeoutMs, firstByteTimeoutMs, idleTimeoutMs, totalTimeoutMs, maxConnectionsPerReplica, null);
    }

    public Upstream(long connectTimeoutMs, long firstByteTimeoutMs, long idleTimeoutMs, long totalTimeoutMs,
                    int maxConnectionsPerReplica, String caFile) {
      this(connectTimeoutMs, firstByteTimeoutMs, idleTimeoutMs, totalTimeoutMs, maxConnectionsPerReplica, caFile, 100);
    }

    /** @param caFile PEM file of the certificate authorities trusted for {@code https://} replicas (null: the JVM's) */
    public Upstream withCaFile(String caFile) {
      return new Upstream(connectTimeoutMs, firstByteTimeoutMs, idleTimeoutMs, totalTimeoutMs,
          maxConnectionsPerReplica, caFile, firstBytePerTokenMs);
    }

    public Upstream withFirstBytePerTokenMs(long firstBytePerTokenMs) {
      return new Upstream(connectTimeoutMs, firstByteTimeoutMs, idleTimeoutMs, totalTimeoutMs,
          maxConnectionsPerReplica, caFile, firstBytePerTokenMs);
    }
  }

  public record Health(long intervalMs, long timeoutMs) {}

  /**
   * Deploying replicas on Hyperstack ({@code apiKey} null: off).
   *
   * @param gatewayCidr who may reach a provisioned replica's vLLM port: the gateway's public address as a CIDR
   *     ({@code 203.0.113.7/32}); with {@code 0.0.0.0/0} (the default) {@code create_vm} is refused unless
   *     {@code allowOpenReplicas}
   * @param pollIntervalMs how often a VM being provisioned is looked at (status, IP, vLLM health)
   * @param vmTimeoutMs from the replica's creation until its VM must be ACTIVE with an IP
   * @param healthTimeoutMs from the VM becoming ACTIVE until vLLM must answer {@code /health} and list the model
   * @param requestTimeoutMs per call to the Hyperstack API
   * @param allowOpenReplicas create replicas even though {@code gatewayCidr} is {@code 0.0.0.0/0} (their key still
   *     guards inference; {@code /health} and {@code /metrics} are open)
   * @param sshCidr who may reach new replicas' SSH port; null: no SSH rule is added (send one in security_rules)
   */
  public record Hyperstack(String apiKey, String baseUrl, String gatewayCidr, long pollIntervalMs, long vmTimeoutMs,
                           long healthTimeoutMs, long requestTimeoutMs, boolean allowOpenReplicas, String sshCidr) {

    public static final String DEFAULT_BASE_URL = "https://infrahub-api.nexgencloud.com/v1";
    public static final String ANYWHERE = "0.0.0.0/0";

    /**
     * As before {@code allowOpenReplicas} and {@code sshCidr}: open replicas refused, no SSH rule added.
     */
    public Hyperstack(String apiKey, String baseUrl, String gatewayCidr, long pollIntervalMs, long vmTimeoutMs,
                      long healthTimeoutMs, long requestTimeoutMs) {
      this(apiKey, baseUrl, gatewayCidr, pollIntervalMs, vmTimeoutMs, healthTimeoutMs, requestTimeoutMs, false, null);
    }

    public Hyperstack(String apiKey, String baseUrl) {
      this(apiKey, baseUrl, ANYWHERE, 10_000, 20 * 60_000L, 30 * 60_000L, 30_000);
    }

    public Hyperstack withApiKey(String key) {
      return new Hyperstack(key, baseUrl, gatewayCidr, pollIntervalMs, vmTimeoutMs, healthTimeoutMs, requestTimeoutMs,
          allowOpenReplicas, sshCidr);
    }

    /** Who may reach new replicas: their vLLM port, and SSH (null: no SSH rule); whether 0.0.0.0/0 is intended. */
    public Hyperstack withAccess(String gatewayCidr, boolean allowOpenReplicas, String sshCidr) {
      return new Hyperstack(apiKey, baseUrl, gatewayCidr, pollIntervalMs, vmTimeoutMs, healthTimeoutMs,
          requestTimeoutMs, allowOpenReplicas, sshCidr);
    }

    /** Whether new replicas' vLLM ports would be open to the whole internet. */
    public boolean opensReplicasToEveryone() {
      return gatewayCidr == null || gatewayCidr.isBlank() || ANYWHERE.equals(gatewayCidr.trim())
          || "::/0".equals(gatewayCidr.trim());
    }

    @Override
    public String toString() {
      // Never print the key: this string can end up in logs.
      return "Hyperstack[apiKey=" + (apiKey == null ? "unset" : "set") + ", baseUrl=" + baseUrl + ", gatewayCidr="
          + gatewayCidr + ", pollIntervalMs=" + pollIntervalMs + ", vmTimeoutMs=" + vmTimeoutMs + ", healthTimeoutMs="
          + healthTimeoutMs + ", requestTimeoutMs=" + requestTimeoutMs + ", allowOpenReplicas=" + allowOpenReplicas
          + ", sshCidr=" + sshCidr + "]";
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
   * @param resume whether a stream broken after tokens were relayed is continued on another replica
   * @param maxResumes continuations per request at most
   */
  public record Router(String strategy, boolean prefixAffinity, int affinityPrefixChars, int maxAttempts,
                       long loadStaleMs, long scrapeIntervalMs, Breaker breaker, boolean resume, int maxResumes) {

    public Router(String strategy, boolean prefixAffinity, int affinityPrefixChars, int maxAttempts, long loadStaleMs,
                  long scrapeIntervalMs, Breaker breaker) {
      this(strategy, prefixAffinity, affinityPrefixChars, maxAttempts, loadStaleMs, scrapeIntervalMs, breaker, true, 2);
    }
  }

  /**
   * Fair admission ({@code ingress/AdmissionGate}): when every replica of a model is saturated, requests wait in the
   * gateway's queue for that model and leave it by weighted fair share across API keys.
   *
   * @param enabled off: requests go straight to the router (the per-key concurrency limit still applies)
   * @param maxInFlightPerReplica a replica with this many requests in flight from the gateway is saturated (0: no cap)
   * @param maxWaitingPerReplica a replica whose vLLM reports more waiting requests than this is saturated
   * @param maxKvCacheUsage a replica whose vLLM reports more KV-cache use than this (0..1) is saturated
   * @param maxQueueLength requests waiting per model beyond which new ones are refused (429 queue_full)
   * @param maxWaitMs a request waiting longer is refused (429 queue_timeout)
   * @param reservedPerReplica with an in-flight cap: this many of each replica's last slots are kept for keys holding
   *     less than their fair share of the model's slots, while more than one key uses the model, so a light key finds
   *     a free batch slot at once instead of waiting for a heavy key's request to end (at most the cap minus one); such
   *     a key's requests are also paced to one streamed prompt being computed per replica (0: no reserve, no pacing)
   */
  public record Admission(boolean enabled, int maxInFlightPerReplica, double maxWaitingPerReplica,
                          double maxKvCacheUsage, int maxQueueLength, long maxWaitMs, int reservedPerReplica) {

    public static final Admission OFF = new Admission(false, 0, 4, 0.98, 1000, 30_000, 1);

    /** Slots per replica kept for keys under their fair share: the setting, below the cap (0 without a cap). */
    public int effectiveReserve() {
      return maxInFlightPerReplica <= 1 ? 0 : Math.min(reservedPerReplica, maxInFlightPerReplica - 1);
    }
  }

  /**
   * One circuit breaker per replica: opens after {@code consecutiveFailures} failures in a row, or when at least
   * {@code failureRatio} of the last {@code window} calls failed (once {@code minCalls} were seen); stays open
   * {@code openMs} (doubling on each failed probe, up to {@code maxOpenMs}, with +/- {@code jitter}), then lets one
   * probe through.
   */
  public record Breaker(int consecutiveFailures, double failureRatio, int window, int minCalls, long openMs,
                        long maxOpenMs, double jitter) {}

  /**
   * Scheduled database backups ({@code backup} package).
   *
   * @param schedule five-field cron expression in UTC; null or "off": no scheduled backups ({@code backup} still works)
   * @param dir where backup files go; null: {@code DATA_DIR/backups}
   * @param keep how many of the newest backup files to keep there (older ones are deleted after each backup)
   * @param retries further attempts after a failed backup, {@code retryDelayMs} apart, doubling each time
   * @param timeoutMs a dump or upload running longer is stopped and counts as failed
   * @param dumpCommand mysqldump or mariadb-dump (null: whichever is on the PATH); unused with the embedded database
   * @param clientCommand the mariadb/mysql client that {@code restore} feeds a MariaDB dump to (null: from the PATH)
   */
  public record Backup(String schedule, String dir, int keep, int retries, long retryDelayMs, long timeoutMs,
                       String dumpCommand, String clientCommand, S3 s3) {

    /** The directory backups go to, given the data directory. */
    public java.nio.file.Path directory(String dataDir) {
      return (dir != null ? java.nio.file.Path.of(dir) : java.nio.file.Path.of(dataDir).resolve("backups"))
          .toAbsolutePath().normalize();
    }

    public Backup withSchedule(String schedule) {
      return new Backup(schedule, dir, keep, retries, retryDelayMs, timeoutMs, dumpCommand, clientCommand, s3);
    }

    public Backup withS3(S3 s3) {
      return new Backup(schedule, dir, keep, retries, retryDelayMs, timeoutMs, dumpCommand, clientCommand, s3);
    }
  }

  /**
   * Where backups are uploaded: any S3-compatible storage ({@code bucket} null: no upload).
   *
   * @param endpoint e.g. {@code https://s3.eu-central-1.amazonaws.com} or a MinIO/Ceph URL; null: AWS's for the region
   * @param pathStyle {@code https://host/bucket/key} instead of {@code https://bucket.host/key} (most S3-compatible
   *     servers want this)
   * @param accessKeyId with {@code secretAccessKey}; both null: the AWS default chain (AWS_ACCESS_KEY_ID, profiles,
   *     instance roles)
   * @param partSizeBytes files larger than this go up in parts of this size (multipart upload)
   */
  public record S3(String endpoint, String region, String bucket, String prefix, boolean pathStyle,
                   String accessKeyId, String secretAccessKey, long partSizeBytes) {

    public boolean enabled() {
      return bucket != null;
    }

    public S3 withCredentials(String accessKeyId, String secretAccessKey) {
      return new S3(endpoint, region, bucket, prefix, pathStyle, accessKeyId, secretAccessKey, partSizeBytes);
    }

    @Override
    public String toString() {
      // Never print the secret: this string can end up in logs.
      return "S3[endpoint=" + endpoint + ", region=" + region + ", bucket=" + bucket + ", prefix=" + prefix
          + ", pathStyle=" + pathStyle + ", credentials=" + (accessKeyId == null ? "default chain" : "set") + "]";
    }
  }

  /**
   * Retention of raw usage rows ({@code metrics} section of the file).
   *
   * @param retentionDays rows older than this are rolled up into hourly aggregates and deleted; 0: kept for ever
   * @param schedule when the roll-up runs (cron, UTC)
   * @param deleteBatchRows rows deleted per statement (each a short transaction)
   * @param deletePauseMs pause between two delete statements, so writers get the table in between
   */
  public record Retention(int retentionDays, String schedule, int deleteBatchRows, long deletePauseMs) {}

  /**
   * Several gateway instances as one (Vert.x clustered event bus, Hazelcast cluster manager); off when
   * {@code members} is empty.
   *
   * @param members {@code host:port} of every member's Hazelcast endpoint, this one's included ({@code CLUSTER_MEMBERS})
   * @param host the address this member binds and advertises ({@code CLUSTER_HOST}); the event bus uses it too
   * @param port this member's Hazelcast port ({@code CLUSTER_PORT}); the event bus listens on {@code port + 1}
   * @param keyCacheMaxAgeMs a cached API key is re-read from the database at least this often (a safety net for a
   *     lost change announcement)
   * @param leaderRetryMs how long a member waits on the leader lock before trying again
   */
  public record Cluster(java.util.List<String> members, String host, int port, long keyCacheMaxAgeMs,
                        long leaderRetryMs) {

    public static final Cluster SINGLE = new Cluster(java.util.List.of(), "127.0.0.1", 5701, 60_000, 5_000);

    public Cluster {
      members = java.util.List.copyOf(members);
    }

    public boolean enabled() {
      return !members.isEmpty();
    }

    /** This member's own {@code host:port}, which names it in the console and the live feed. */
    public String self() {
      return host + ":" + port;
    }

    public Cluster withMembers(java.util.List<String> members, String host, int port) {
      return new Cluster(members, host, port, keyCacheMaxAgeMs, leaderRetryMs);
    }

    /** Parses {@code host:port,host:port}; a member without a port gets {@code defaultPort}. */
    public static java.util.List<String> parseMembers(String list, int defaultPort) {
      java.util.List<String> out = new java.util.ArrayList<>();
      for (String m : list.split(",")) {
        String t = m.trim();
        if (t.isEmpty()) {
          continue;
        }
        int colon = t.lastIndexOf(':');
        if (colon < 0) {
          t = t + ":" + defaultPort;
        } else {
          try {
            int p = Integer.parseInt(t.substring(colon + 1));
            if (p < 1 || p > 65534 || colon == 0) {
              throw new NumberFormatException();
            }
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("CLUSTER_MEMBERS: '" + t + "' is not host:port");
          }
        }
        out.add(t);
      }
      return out;
    }
  }

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
            http.getInteger("instances", 0), http.getLong("maxBodyBytes", 10L * 1024 * 1024), clients(http),
            tls(section(http, "tls")),
            drainSeconds(section(json, "shutdown").getValue("drainSeconds", Http.DEFAULT_DRAIN_SECONDS).toString()),
            http.getString("transport", NetworkTransport.AUTO)),
        blankToNull(json.getString("adminApiKey")),
        blankToNull(json.getString("appPassword")),
        new Database(blankToNull(db.getString("url")), db.getString("dataDir", "./data"), db.getInteger("poolSize", 8)),
        new Redis(blankToNull(redis.getString("url")), onFailure, redis.getLong("timeoutMs", 250L),
            redis.getString("keyPrefix", "igw")),
        new Limits(limits.getInteger("defaultRpm", 160), limits.getLong("tokenDebitFlushMs", 100L),
            bounded("limits.prefetchFraction", limits.getDouble("prefetchFraction", 0.01), 0, 0.1),
            (long) bounded("limits.creditTtlMs", limits.getLong("creditTtlMs", 1000L), 100, 60_000),
            (int) bounded("limits.reserveTokens", limits.getInteger("reserveTokens", 1024), 0, 1_000_000)),
        new Usage(usage.getInteger("batchSize", 500), usage.getLong("flushIntervalMs", 200L),
            usage.getInteger("memoryBufferRecords", 20000), usage.getBoolean("storeContent", false),
            contentMaxChars(usage.getInteger("contentMaxChars", 8192)), journal(section(usage, "journal"))),
        new Upstream(up.getLong("connectTimeoutMs", 10_000L), up.getLong("firstByteTimeoutMs", 120_000L),
            up.getLong("idleTimeoutMs", 60_000L), up.getLong("totalTimeoutMs", 900_000L),
            up.getInteger("maxConnectionsPerReplica", 4096), blankToNull(up.getString("caFile")),
            (long) bounded("upstream.firstBytePerTokenMs", up.getLong("firstBytePerTokenMs", 100L), 0, 60_000)),
        new Health(health.getLong("intervalMs", 5000L), health.getLong("timeoutMs", 2000L)),
        hyperstack(hs),
        new Router(strategy, router.getBoolean("prefixAffinity", true), router.getInteger("affinityPrefixChars", 512),
            router.getInteger("maxAttempts", 3), router.getLong("loadStaleMs", 3000L),
            router.getLong("scrapeIntervalMs", 1000L),
            new Breaker(breaker.getInteger("consecutiveFailures", 5), breaker.getDouble("failureRatio", 0.5),
                breaker.getInteger("window", 20), breaker.getInteger("minCalls", 10), breaker.getLong("openMs", 5000L),
                breaker.getLong("maxOpenMs", 60_000L), breaker.getDouble("jitter", 0.2)),
            router.getBoolean("resume", true),
            (int) bounded("router.maxResumes", router.getInteger("maxResumes", 2), 0, 10)),
        new Console(console.getLong("sessionTtlMinutes", 480L), console.getInteger("loginFreeAttempts", 5)),
        new Bridge(bridge.getInteger("tcpPort", 0), bridge.getString("tcpHost", "127.0.0.1")),
        backup(section(json, "backup")),
        retention(section(json, "metrics")),
        admission(section(json, "admission")),
        cluster(section(json, "cluster")),
        security(section(json, "security")));
  }

  static Admission admission(JsonObject a) {
    Admission d = Admission.OFF;
    return new Admission(a.getBoolean("enabled", d.enabled()),
        (int) bounded("admission.maxInFlightPerReplica", a.getInteger("maxInFlightPerReplica", d.maxInFlightPerReplica()),
            0, 1_000_000),
        bounded("admission.maxWaitingPerReplica", a.getDouble("maxWaitingPerReplica", d.maxWaitingPerReplica()), 0,
            1_000_000),
        bounded("admission.maxKvCacheUsage", a.getDouble("maxKvCacheUsage", d.maxKvCacheUsage()), 0, 1),
        (int) bounded("admission.maxQueueLength", a.getInteger("maxQueueLength", d.maxQueueLength()), 0, 10_000_000),
        (long) bounded("admission.maxWaitMs", a.getLong("maxWaitMs", d.maxWaitMs()), 1, 3_600_000),
        (int) bounded("admission.reservedPerReplica", a.getInteger("reservedPerReplica", d.reservedPerReplica()), 0,
            1_000_000));
  }

  private static Security security(JsonObject s) {
    int port = s.getInteger("metricsPort", 0);
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("security.metricsPort must be a port number (0: off), not " + port);
    }
    return new Security(blankToNull(s.getString("secretsKey")), blankToNull(s.getString("secretsKeyPrevious")),
        blankToNull(s.getString("metricsToken")), port, s.getString("metricsHost", "127.0.0.1"));
  }

  public GatewayConfig withSecurity(Security security) {
    return new GatewayConfig(http, adminApiKey, appPassword, database, redis, limits, usage, upstream, health, hyperstack,
        router, console, bridge, backup, retention, admission, cluster, security);
  }

  /** Applies the documented environment variables on top of the file's values. */
  public GatewayConfig withEnvironment(Map<String, String> env) {
    GatewayConfig c = this;
    if (present(env, "HTTP_PORT")) {
      c = c.withHttp(c.http.withPort(parsePort(env.get("HTTP_PORT"))));
    }
    if (present(env, "NETWORK_TRANSPORT")) {
      c = c.withHttp(c.http.withTransport(env.get("NETWORK_TRANSPORT").trim()));
    }
    if (present(env, "TLS_CERT_FILE") || present(env, "TLS_KEY_FILE")) {
      if (!present(env, "TLS_CERT_FILE") || !present(env, "TLS_KEY_FILE")) {
        throw new IllegalArgumentException("TLS_CERT_FILE and TLS_KEY_FILE go together: set both");
      }
      c = c.withHttp(c.http.withTls(c.http.tls.withFiles(env.get("TLS_CERT_FILE").trim(),
          env.get("TLS_KEY_FILE").trim())));
    }
    if (present(env, "HTTP_MAX_CONNECTIONS_PER_ADDRESS")) {
      int n;
      try {
        n = Integer.parseInt(env.get("HTTP_MAX_CONNECTIONS_PER_ADDRESS").trim());
      } catch (NumberFormatException e) {
        n = -1;
      }
      if (n < 0) {
        throw new IllegalArgumentException("HTTP_MAX_CONNECTIONS_PER_ADDRESS must be a number, 0 for no limit, not '"
            + env.get("HTTP_MAX_CONNECTIONS_PER_ADDRESS") + "'");
      }
      Clients k = c.http.clients;
      c = c.withHttp(c.http.withClients(new Clients(k.bodyBudgetBytes(), k.bodyBudgetPerKeyBytes(),
          k.requestDeadlineMs(), k.idleTimeoutMs(), k.maxConnections(), n, k.h2c())));
    }
    if (present(env, "UPSTREAM_CA_FILE")) {
      c = c.withUpstream(c.upstream.withCaFile(env.get("UPSTREAM_CA_FILE").trim()));
    }
    if (present(env, "SHUTDOWN_DRAIN_SECONDS")) {
      c = c.withHttp(c.http.withDrainSeconds(drainSeconds(env.get("SHUTDOWN_DRAIN_SECONDS"))));
    }
    if (present(env, "ADMIN_API_KEY")) {
      c = new GatewayConfig(c.http, env.get("ADMIN_API_KEY").trim(), c.appPassword, c.database, c.redis, c.limits,
          c.usage, c.upstream, c.health, c.hyperstack, c.router, c.console, c.bridge, c.backup, c.retention, c.admission, c.cluster, c.security);
    }
    if (present(env, "APP_PASSWORD")) {
      c = new GatewayConfig(c.http, c.adminApiKey, env.get("APP_PASSWORD"), c.database, c.redis, c.limits,
          c.usage, c.upstream, c.health, c.hyperstack, c.router, c.console, c.bridge, c.backup, c.retention, c.admission, c.cluster, c.security);
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
          c.console, c.bridge, c.backup, c.retention, c.admission, c.cluster, c.security);
    }
    if (present(env, "HYPERSTACK_GATEWAY_CIDR") || present(env, "HYPERSTACK_SSH_CIDR")
        || present(env, "HYPERSTACK_ALLOW_OPEN_REPLICAS")) {
      Hyperstack hs = c.hyperstack;
      String allow = present(env, "HYPERSTACK_ALLOW_OPEN_REPLICAS") ? env.get("HYPERSTACK_ALLOW_OPEN_REPLICAS").trim()
          : Boolean.toString(hs.allowOpenReplicas());
      if (!allow.equals("true") && !allow.equals("false")) {
        throw new IllegalArgumentException("HYPERSTACK_ALLOW_OPEN_REPLICAS must be true or false, not '" + allow + "'");
      }
      c = c.withHyperstack(hs.withAccess(
          present(env, "HYPERSTACK_GATEWAY_CIDR") ? env.get("HYPERSTACK_GATEWAY_CIDR").trim() : hs.gatewayCidr(),
          Boolean.parseBoolean(allow),
          present(env, "HYPERSTACK_SSH_CIDR") ? env.get("HYPERSTACK_SSH_CIDR").trim() : hs.sshCidr()));
    }
    if (present(env, "BACKUP_S3_ACCESS_KEY_ID") || present(env, "BACKUP_S3_SECRET_ACCESS_KEY")) {
      if (!present(env, "BACKUP_S3_ACCESS_KEY_ID") || !present(env, "BACKUP_S3_SECRET_ACCESS_KEY")) {
        throw new IllegalArgumentException("BACKUP_S3_ACCESS_KEY_ID and BACKUP_S3_SECRET_ACCESS_KEY go together: set both");
      }
      c = c.withBackup(c.backup.withS3(c.backup.s3().withCredentials(env.get("BACKUP_S3_ACCESS_KEY_ID").trim(),
          env.get("BACKUP_S3_SECRET_ACCESS_KEY").trim())));
    }
    if (present(env, "CLUSTER_MEMBERS") || present(env, "CLUSTER_HOST") || present(env, "CLUSTER_PORT")) {
      int port = present(env, "CLUSTER_PORT") ? parsePort("CLUSTER_PORT", env.get("CLUSTER_PORT")) : c.cluster.port();
      if (port == 0 || port == 65535) {
        throw new IllegalArgumentException("CLUSTER_PORT must be between 1 and 65534 (the event bus takes the next one)");
      }
      java.util.List<String> members = present(env, "CLUSTER_MEMBERS")
          ? Cluster.parseMembers(env.get("CLUSTER_MEMBERS"), port) : c.cluster.members();
      String host = present(env, "CLUSTER_HOST") ? env.get("CLUSTER_HOST").trim() : c.cluster.host();
      c = c.withCluster(c.cluster.withMembers(members, host, port));
    }
    if (present(env, "SECRETS_KEY") || present(env, "SECRETS_KEY_PREVIOUS")) {
      c = c.withSecurity(c.security.withSecretsKeys(
          present(env, "SECRETS_KEY") ? env.get("SECRETS_KEY").trim() : c.security.secretsKey,
          present(env, "SECRETS_KEY_PREVIOUS") ? env.get("SECRETS_KEY_PREVIOUS").trim() : c.security.secretsKeyPrevious));
    }
    if (present(env, "METRICS_TOKEN") || present(env, "METRICS_PORT")) {
      c = c.withSecurity(c.security.withMetrics(
          present(env, "METRICS_TOKEN") ? env.get("METRICS_TOKEN").trim() : c.security.metricsToken,
          present(env, "METRICS_PORT") ? parsePort("METRICS_PORT", env.get("METRICS_PORT")) : c.security.metricsPort,
          c.security.metricsHost));
    }
    return c;
  }

  public GatewayConfig withHttp(Http http) {
    return new GatewayConfig(http, adminApiKey, appPassword, database, redis, limits, usage, upstream, health, hyperstack, router,
        console, bridge, backup, retention, admission, cluster, security);
  }

  public GatewayConfig withAdminApiKey(String key) {
    return new GatewayConfig(http, key, appPassword, database, redis, limits, usage, upstream, health, hyperstack, router,
        console, bridge, backup, retention, admission, cluster, security);
  }

  public GatewayConfig withAppPassword(String password) {
    return new GatewayConfig(http, adminApiKey, password, database, redis, limits, usage, upstream, health, hyperstack, router,
        console, bridge, backup, retention, admission, cluster, security);
  }

  public GatewayConfig withDatabase(Database database) {
    return new GatewayConfig(http, adminApiKey, appPassword, database, redis, limits, usage, upstream, health, hyperstack, router,
        console, bridge, backup, retention, admission, cluster, security);
  }

  public GatewayConfig withRedis(Redis redis) {
    return new GatewayConfig(http, adminApiKey, appPassword, database, redis, limits, usage, upstream, health, hyperstack, router,
        console, bridge, backup, retention, admission, cluster, security);
  }

  public GatewayConfig withUsage(Usage usage) {
    return new GatewayConfig(http, adminApiKey, appPassword, database, redis, limits, usage, upstream, health, hyperstack, router,
        console, bridge, backup, retention, admission, cluster, security);
  }

  public GatewayConfig withUpstream(Upstream upstream) {
    return new GatewayConfig(http, adminApiKey, appPassword, database, redis, limits, usage, upstream, health, hyperstack, router,
        console, bridge, backup, retention, admission, cluster, security);
  }

  public GatewayConfig withHealth(Health health) {
    return new GatewayConfig(http, adminApiKey, appPassword, database, redis, limits, usage, upstream, health, hyperstack, router,
        console, bridge, backup, retention, admission, cluster, security);
  }

  public GatewayConfig withAdmission(Admission admission) {
    return new GatewayConfig(http, adminApiKey, appPassword, database, redis, limits, usage, upstream, health, hyperstack, router,
        console, bridge, backup, retention, admission, cluster, security);
  }

  public GatewayConfig withRouter(Router router) {
    return new GatewayConfig(http, adminApiKey, appPassword, database, redis, limits, usage, upstream, health, hyperstack, router,
        console, bridge, backup, retention, admission, cluster, security);
  }

  public GatewayConfig withHyperstack(Hyperstack hyperstack) {
    return new GatewayConfig(http, adminApiKey, appPassword, database, redis, limits, usage, upstream, health, hyperstack, router,
        console, bridge, backup, retention, admission, cluster, security);
  }

  public GatewayConfig withBridge(Bridge bridge) {
    return new GatewayConfig(http, adminApiKey, appPassword, database, redis, limits, usage, upstream, health, hyperstack,
        router, console, bridge, backup, retention, admission, cluster, security);
  }

  public GatewayConfig withConsole(Console console) {
    return new GatewayConfig(http, adminApiKey, appPassword, database, redis, limits, usage, upstream, health, hyperstack, router,
        console, bridge, backup, retention, admission, cluster, security);
  }

  private static Clients clients(JsonObject http) {
    Clients d = Clients.DEFAULTS;
    return new Clients(positive(http, "bodyBudgetBytes", d.bodyBudgetBytes()),
        positive(http, "bodyBudgetPerKeyBytes", d.bodyBudgetPerKeyBytes()),
        positive(http, "requestDeadlineMs", d.requestDeadlineMs()),
        (long) bounded("http.idleTimeoutMs", http.getLong("idleTimeoutMs", d.idleTimeoutMs()), 0, 86_400_000),
        (int) bounded("http.maxConnections", http.getInteger("maxConnections", d.maxConnections()), 0, 10_000_000),
        (int) bounded("http.maxConnectionsPerAddress",
            http.getInteger("maxConnectionsPerAddress", d.maxConnectionsPerAddress()), 0, 10_000_000),
        http.getBoolean("h2c", d.h2c()));
  }

  private static Tls tls(JsonObject tls) {
    Tls d = Tls.OFF;
    String cert = blankToNull(tls.getString("certFile"));
    String key = blankToNull(tls.getString("keyFile"));
    if ((cert == null) != (key == null)) {
      throw new IllegalArgumentException("http.tls.certFile and http.tls.keyFile go together: set both or neither");
    }
    return new Tls(cert, key, (int) bounded("http.tls.redirectPort", tls.getInteger("redirectPort", 0), 0, 65535),
        positive(tls, "reloadCheckMs", d.reloadCheckMs()),
        (long) bounded("http.tls.hstsMaxAgeSeconds", tls.getLong("hstsMaxAgeSeconds", d.hstsMaxAgeSeconds()), 0,
            100L * 365 * 86_400));
  }

  private static Backup backup(JsonObject b) {
    String schedule = b.getString("schedule", "0 3 * * *");
    io.inferencegateway.scheduler.CronSchedule.parse("backup.schedule", schedule);
    JsonObject s3 = section(b, "s3");
    long partSize = s3.getLong("partSizeBytes", 64L * 1024 * 1024);
    if (partSize < 5L * 1024 * 1024 || partSize > 5L * 1024 * 1024 * 1024) {
      throw new IllegalArgumentException("backup.s3.partSizeBytes must be between 5 MiB and 5 GiB (S3's limits), not "
          + partSize);
    }
    String prefix = s3.getString("prefix", "inference-gateway/");
    return new Backup(schedule, blankToNull(b.getString("dir")),
        (int) bounded("backup.keep", b.getInteger("keep", 7), 1, 10_000),
        (int) bounded("backup.retries", b.getInteger("retries", 3), 0, 20),
        positive(b, "retryDelayMs", 60_000L), positive(b, "timeoutMs", 3_600_000L),
        blankToNull(b.getString("dumpCommand")), blankToNull(b.getString("clientCommand")),
        new S3(blankToNull(s3.getString("endpoint")), s3.getString("region", "us-east-1"),
            blankToNull(s3.getString("bucket")), prefix == null ? "" : prefix, s3.getBoolean("pathStyle", false),
            blankToNull(s3.getString("accessKeyId")), blankToNull(s3.getString("secretAccessKey")), partSize));
  }

  private static Retention retention(JsonObject m) {
    String schedule = m.getString("rollupSchedule", "17 * * * *");
    if (io.inferencegateway.scheduler.CronSchedule.parse("metrics.rollupSchedule", schedule).isEmpty()) {
      schedule = null;
    }
    return new Retention((int) bounded("metrics.retentionDays", m.getInteger("retentionDays", 30), 0, 100_000),
        schedule, (int) bounded("metrics.deleteBatchRows", m.getInteger("deleteBatchRows", 1000), 1, 1000),
        (long) bounded("metrics.deletePauseMs", m.getLong("deletePauseMs", 20L), 0, 60_000));
  }

  public GatewayConfig withBackup(Backup backup) {
    return new GatewayConfig(http, adminApiKey, appPassword, database, redis, limits, usage, upstream, health, hyperstack,
        router, console, bridge, backup, retention, admission, cluster, security);
  }

  public GatewayConfig withRetention(Retention retention) {
    return new GatewayConfig(http, adminApiKey, appPassword, database, redis, limits, usage, upstream, health, hyperstack,
        router, console, bridge, backup, retention, admission, cluster, security);
  }

  private static Cluster cluster(JsonObject cl) {
    Object members = cl.getValue("members");
    int port = (int) bounded("cluster.port", cl.getInteger("port", 5701), 1, 65534);
    java.util.List<String> list = new java.util.ArrayList<>();
    if (members instanceof String text) {
      list = Cluster.parseMembers(text, port);
    } else if (members instanceof io.vertx.core.json.JsonArray array) {
      list = Cluster.parseMembers(String.join(",", array.stream().map(String::valueOf).toList()), port);
    }
    return new Cluster(list, cl.getString("host", "127.0.0.1"), port,
        positive(cl, "keyCacheMaxAgeMs", 60_000L), positive(cl, "leaderRetryMs", 5_000L));
  }

  public GatewayConfig withCluster(Cluster cluster) {
    return new GatewayConfig(http, adminApiKey, appPassword, database, redis, limits, usage, upstream, health, hyperstack,
        router, console, bridge, backup, retention, admission, cluster, security);
  }

  private static Journal journal(JsonObject j) {
    Journal d = Journal.DEFAULTS;
    return new Journal(j.getString("fsync", d.fsync()), j.getLong("groupCommitMs", d.groupCommitMs()),
        j.getLong("fsyncIntervalMs", d.fsyncIntervalMs()), j.getLong("maxBytes", d.maxBytes()),
        j.getLong("segmentBytes", d.segmentBytes()));
  }

  private static int drainSeconds(String value) {
    try {
      int s = Integer.parseInt(value.trim());
      if (s < 0 || s > 3600) {
        throw new NumberFormatException();
      }
      return s;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("shutdown.drainSeconds (SHUTDOWN_DRAIN_SECONDS) must be 0 to 3600 seconds, not '"
          + value + "'");
    }
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
        positive(hs, "requestTimeoutMs", d.requestTimeoutMs()), hs.getBoolean("allowOpenReplicas", false),
        blankToNull(hs.getString("sshCidr")));
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
    return parsePort("HTTP_PORT", value);
  }

  private static int parsePort(String name, String value) {
    try {
      int port = Integer.parseInt(value.trim());
      if (port < 0 || port > 65535) {
        throw new NumberFormatException();
      }
      return port;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " must be a port number, not '" + value + "'");
    }
  }

  @Override
  public String toString() {
    // Never print secrets: this string can end up in logs.
    return "GatewayConfig[http=" + http + ", database=" + (database.url == null ? "embedded:" + database.dataDir : "mysql")
        + ", redis=" + (redis.url == null ? "none" : "configured") + ", adminApiKey=" + (adminApiKey == null ? "unset" : "set")
        + ", hyperstack=" + (hyperstack.apiKey == null ? "unset" : "set")
        + ", cluster=" + (cluster.enabled() ? cluster.self() + " of " + cluster.members() : "off") + "]";
  }
}
