package io.inferencegateway.admin;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.inferencegateway.auth.ApiKeys;
import io.inferencegateway.config.Addresses;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.simulator.SimulatorVerticle;
import io.inferencegateway.store.ReplicaRow;
import io.inferencegateway.support.GatewayHarness;
import io.inferencegateway.support.Http;
import io.inferencegateway.support.Poll;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The admin API over real HTTP, run unchanged on MariaDB ({@link AdminApiMariaDbTest}) and on the embedded database
 * ({@link AdminApiH2Test}), with the vLLM simulator as upstream: every endpoint and error, admin key and session
 * auth, propagation to the OpenAI routes, paging, secrets never shown, and a session as the toolkit's client runs it.
 * The gateway has a (dummy) Hyperstack key, so {@code create_vm} records PENDING replicas; nothing calls Hyperstack.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class AdminApiContract {

  static final String ADMIN = "sk-admin-test";
  static final String PASSWORD = "console-test-password";
  static final String INVALID_ADMIN = "{\"error\":\"Invalid Admin API key.\"}";

  private final AtomicInteger names = new AtomicInteger();
  /** Every response body this class saw, and every key created: no body may show a key's hash or plaintext. */
  private final List<String> bodies = new CopyOnWriteArrayList<>();
  private final List<String> hashes = new CopyOnWriteArrayList<>();
  private final List<String> plaintexts = new CopyOnWriteArrayList<>();
  private final List<JsonObject> provisioning = new CopyOnWriteArrayList<>();
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();

  GatewayHarness gw;
  Vertx vertx;
  Http http;

  protected abstract GatewayHarness start(UnaryOperator<GatewayConfig> tweak);

  @BeforeAll
  void startGateway() {
    logs.start();
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(logs);
    gw = start(c -> c.withHyperstack(new GatewayConfig.Hyperstack("dummy-hyperstack-key", "http://127.0.0.1:9")
        .withAccess("0.0.0.0/0", true, null)));
    MessageConsumer<JsonObject> consumer = gw.app.vertx().eventBus().consumer(Addresses.REPLICAS_PROVISIONING,
        msg -> provisioning.add(msg.body()));
    consumer.completion().await();
    vertx = Vertx.vertx();
    http = new Http(vertx);
  }

  @AfterAll
  void stopGateway() {
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
    try {
      List<String> logged = new ArrayList<>();
      for (ILoggingEvent e : logs.list) {
        logged.add(e.getFormattedMessage() + (e.getThrowableProxy() == null ? "" : e.getThrowableProxy().getMessage()));
      }
      for (String secret : secrets()) {
        assertThat(bodies).as("no response shows a key hash or a plaintext after creation")
            .noneSatisfy(b -> assertThat(b).contains(secret));
        assertThat(logged).as("no log line shows a key hash or plaintext").noneSatisfy(l -> assertThat(l).contains(secret));
      }
    } finally {
      http.close();
      vertx.close().await();
      gw.close();
    }
  }

  private List<String> secrets() {
    List<String> all = new ArrayList<>(hashes);
    all.addAll(plaintexts);
    return all;
  }

  // ---- helpers

  Http.Response call(HttpMethod method, String path, String bearer, Object body) {
    Buffer b = body == null ? null : body instanceof Buffer buf ? buf
        : Buffer.buffer(body instanceof JsonObject j ? j.encode() : String.valueOf(body));
    Http.Response r = http.send(method, gw.baseUrl + path, bearer, body == null ? null : "application/json", b);
    if (!(path.equals("/api/v1/generate_api_key") && r.status() == 200)) {
      bodies.add(r.body().toString());
    }
    return r;
  }

  Http.Response admin(HttpMethod method, String path, Object body) {
    return call(method, path, ADMIN, body);
  }

  Http.Response get(String path) {
    return admin(HttpMethod.GET, path, null);
  }

  Http.Response post(String path, Object body) {
    return admin(HttpMethod.POST, path, body);
  }

  static JsonArray array(Http.Response r) {
    return new JsonArray(r.body());
  }

  static JsonObject errors(Http.Response r) {
    assertThat(r.status()).as(r.body().toString()).isEqualTo(400);
    return r.json().getJsonObject("errors");
  }

  String modelName() {
    return "org-" + names.incrementAndGet() + "/Model-" + names.get() + ".1-8B";
  }

  /** Creates a model through the API; returns its id. */
  long createModel(String name) {
    Http.Response r = post("/api/v1/models", new JsonObject().put("name", name));
    assertThat(r.status()).as(r.body().toString()).isEqualTo(201);
    assertThat(r.json().getString("model_name")).isEqualTo(name);
    return r.json().getLong("id");
  }

  /** A simulator serving {@code model}; returns its base URL. */
  String simulatorFor(String model) {
    SimulatorVerticle sim = gw.simulator(0, GatewayHarness.simSettings(model, new JsonObject().put("tokensPerAnswer", 4)));
    return "http://127.0.0.1:" + sim.actualPort();
  }

  long addReplica(long modelId, String endpoint) {
    Http.Response r = post("/api/v1/models/" + modelId + "/replicas", new JsonObject().put("endpoint", endpoint));
    assertThat(r.status()).as(r.body().toString()).isEqualTo(201);
    return r.json().getLong("replica_id");
  }

  /** A model with one replica at its own simulator, all through the API. */
  long routableModel(String name) {
    long id = createModel(name);
    addReplica(id, simulatorFor(name));
    return id;
  }

  JsonObject generateKey(JsonObject body) {
    Http.Response r = post("/api/v1/generate_api_key", body);
    assertThat(r.status()).as(r.body().toString()).isEqualTo(200);
    JsonObject key = r.json();
    plaintexts.add(key.getString("api_key"));
    hashes.add(ApiKeys.sha256Hex(key.getString("api_key")));
    return key;
  }

  Http.Response chat(String path, String key, String model) {
    return call(HttpMethod.POST, path, key, new JsonObject().put("model", model)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "Hi"))));
  }

  Http.Response chat(String key, String model) {
    return chat("/v1/chat/completions", key, model);
  }

  String login() {
    Http.Response r = call(HttpMethod.POST, "/api/v1/auth/login", null, new JsonObject().put("password", PASSWORD));
    assertThat(r.status()).as(r.body().toString()).isEqualTo(200);
    return r.json().getString("token");
  }

  void awaitUsageRows(long n) throws InterruptedException {
    assertThat(gw.awaitUsageRows(n, 20_000)).isGreaterThanOrEqualTo(n);
  }

  JsonArray tableRows(String table, String query) {
    Http.Response r = get("/api/v1/tables/" + table + query);
    assertThat(r.status()).as(r.body().toString()).isEqualTo(200);
    return r.json().getJsonArray("data");
  }

  JsonObject awaitProvisioning(long replicaId, String action) throws InterruptedException {
    return Poll.value("provisioning event " + action + " for replica " + replicaId, Duration.ofSeconds(5),
        () -> provisioning.stream()
            .filter(e -> e.getLong("replica_id") == replicaId && action.equals(e.getString("action")))
            .findFirst().orElse(null),
        e -> e != null);
  }

  // ---- authentication

  @Test
  void everyAdminRouteRefusesMissingAndWrongCredentials() {
    String userKey = generateKey(new JsonObject().put("user_id", "auth-user")).getString("api_key");
    record R(HttpMethod method, String path, boolean userKeyAllowed) {}
    List<R> routes = List.of(
        new R(HttpMethod.POST, "/api/v1/generate_api_key", false),
        new R(HttpMethod.POST, "/api/v1/delete_api_key", false),
        new R(HttpMethod.GET, "/api/v1/api_keys", false),
        new R(HttpMethod.GET, "/api/v1/models", true),
        new R(HttpMethod.POST, "/api/v1/models", false),
        new R(HttpMethod.GET, "/api/v1/models/NousResearch%2FMeta-Llama-3.1-8B-Instruct", false),
        new R(HttpMethod.DELETE, "/api/v1/models/1", false),
        new R(HttpMethod.GET, "/api/v1/models/1/replicas", false),
        new R(HttpMethod.POST, "/api/v1/models/1/replicas", false),
        new R(HttpMethod.PUT, "/api/v1/models/replicas/1", false),
        new R(HttpMethod.DELETE, "/api/v1/replicas/1", false),
        new R(HttpMethod.GET, "/api/v1/tables", false),
        new R(HttpMethod.GET, "/api/v1/tables/metrics", false),
        new R(HttpMethod.GET, "/api/v1/usage/series", false),
        new R(HttpMethod.GET, "/api/v1/backups", false));
    for (R route : routes) {
      Object body = route.method() == HttpMethod.POST || route.method() == HttpMethod.PUT ? "{}" : null;
      for (String bearer : new String[] {null, "sk-admin-wrong", ADMIN + "x", "a.b.c", route.userKeyAllowed() ? null : userKey}) {
        Http.Response r = call(route.method(), route.path(), bearer, body);
        assertThat(r.status()).as(route + " with " + bearer).isEqualTo(401);
        assertThat(r.body().toString()).as(route + " with " + bearer).isEqualTo(INVALID_ADMIN);
      }
    }
  }

  @Test
  void aSessionTokenFromLoginWorksLikeTheAdminKeyAndAcrossInstances() {
    Http.Response r = call(HttpMethod.POST, "/api/v1/auth/login", null, new JsonObject().put("password", PASSWORD));
    assertThat(r.status()).isEqualTo(200);
    JsonObject login = r.json();
    assertThat(login.getString("token_type")).isEqualTo("Bearer");
    assertThat(login.getLong("expires_in")).as("8 h").isEqualTo(480 * 60L);
    assertThat(Instant.parse(login.getString("expires_at"))).isAfter(Instant.now().plusSeconds(7 * 3600));
    String token = login.getString("token");
    assertThat(token.split("\\.")).hasSize(3);

    assertThat(call(HttpMethod.GET, "/api/v1/tables", token, null).status()).isEqualTo(200);
    String name = modelName();
    Http.Response created = call(HttpMethod.POST, "/api/v1/models", token, new JsonObject().put("name", name));
    assertThat(created.status()).isEqualTo(201);
    Http.Response models = call(HttpMethod.GET, "/api/v1/models", token, null);
    assertThat(array(models).stream().map(m -> ((JsonObject) m).getString("name"))).contains(name);

    // the signing secret is in the database: another gateway on it (or this one restarted) accepts the token
    try (GatewayHarness sibling = gw.sibling()) {
      Http.Response there = http.send(HttpMethod.GET, sibling.baseUrl + "/api/v1/tables", token, null, null);
      assertThat(there.status()).isEqualTo(200);
    }
  }

  @Test
  void wrongPasswordIs401AndBadLoginBodiesAre400() {
    Http.Response wrong = call(HttpMethod.POST, "/api/v1/auth/login", null, new JsonObject().put("password", "nope"));
    assertThat(wrong.status()).isEqualTo(401);
    assertThat(wrong.json()).isEqualTo(new JsonObject().put("error", "Invalid password."));
    assertThat(errors(call(HttpMethod.POST, "/api/v1/auth/login", null, "{}")))
        .isEqualTo(new JsonObject().put("password", new JsonArray().add("Missing data for required field.")));
    assertThat(errors(call(HttpMethod.POST, "/api/v1/auth/login", null, new JsonObject().put("password", 5))))
        .isEqualTo(new JsonObject().put("password", new JsonArray().add("Not a valid string.")));
    assertThat(errors(call(HttpMethod.POST, "/api/v1/auth/login", null, "password=x")).getJsonArray("_schema"))
        .containsExactly("The request body is not valid JSON.");
    login(); // a success clears the failure count of this address
  }

  @Test
  void expiredTamperedForeignAndMisscopedTokensAre401() {
    String stored = gw.app.services().settings().get(Sessions.SECRET_SETTING).await().orElseThrow();
    assertThat(stored).as("kept sealed with the secrets key").startsWith("v1:");
    String secret = gw.app.services().models().secrets().open(stored);
    JWTAuth ours = JWTAuth.create(vertx, new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(secret)));
    JWTAuth foreign = JWTAuth.create(vertx, new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer("another-secret-another-secret-xx")));
    JWTOptions options = new JWTOptions().setAlgorithm("HS256").setIssuer(Sessions.ISSUER)
        .setAudience(List.of(Sessions.AUDIENCE));
    long now = System.currentTimeMillis() / 1000;
    String pwd = Sessions.passwordFingerprint(secret, gw.config.appPassword());
    java.util.function.Supplier<JsonObject> claims = () -> new JsonObject().put("scope", "admin")
        .put("jti", java.util.UUID.randomUUID().toString()).put(Sessions.PASSWORD_CLAIM, pwd);
    String valid = ours.generateToken(claims.get(), new JWTOptions(options).setExpiresInSeconds(60));
    assertThat(call(HttpMethod.GET, "/api/v1/tables", valid, null).status()).as("control: a well-made token").isEqualTo(200);

    String expired = ours.generateToken(claims.get().put("exp", now - 5), options);
    String noExpiry = ours.generateToken(claims.get(), options);
    String noId = ours.generateToken(claims.get().put("jti", null), new JWTOptions(options).setExpiresInSeconds(60));
    String otherPassword = ours.generateToken(claims.get().put(Sessions.PASSWORD_CLAIM,
        Sessions.passwordFingerprint(secret, "an older console password")), new JWTOptions(options).setExpiresInSeconds(60));
    String[] parts = valid.split("\\.");
    JsonObject payload = new JsonObject(Buffer.buffer(java.util.Base64.getUrlDecoder().decode(parts[1])));
    payload.put("exp", now + 999_999);
    String tampered = parts[0] + "." + java.util.Base64.getUrlEncoder().withoutPadding()
        .encodeToString(payload.encode().getBytes(java.nio.charset.StandardCharsets.UTF_8)) + "." + parts[2];
    String badSignature = parts[0] + "." + parts[1] + "." + parts[2].substring(0, parts[2].length() - 2)
        + (parts[2].endsWith("AA") ? "BB" : "AA");
    String foreignToken = foreign.generateToken(claims.get(), new JWTOptions(options).setExpiresInSeconds(60));
    String wrongScope = ours.generateToken(claims.get().put("scope", "user"), new JWTOptions(options).setExpiresInSeconds(60));
    String wrongAudience = ours.generateToken(claims.get(), new JWTOptions()
        .setAlgorithm("HS256").setIssuer(Sessions.ISSUER).setAudience(List.of("someone-else")).setExpiresInSeconds(60));
    String none = parts[0].replace(parts[0], java.util.Base64.getUrlEncoder().withoutPadding()
        .encodeToString("{\"alg\":\"none\",\"typ\":\"JWT\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8)))
        + "." + parts[1] + ".";
    for (String token : List.of(expired, noExpiry, noId, otherPassword, tampered, badSignature, foreignToken, wrongScope,
        wrongAudience, none)) {
      Http.Response r = call(HttpMethod.GET, "/api/v1/tables", token, null);
      assertThat(r.status()).as(token).isEqualTo(401);
      assertThat(r.body().toString()).isEqualTo(INVALID_ADMIN);
    }
  }

  // ---- API keys

  @Test
  void generateApiKeyShowsThePlaintextOnceWithTheDefaults() {
    JsonObject key = generateKey(new JsonObject().put("user_id", "alice"));
    assertThat(key.getString("api_key")).startsWith("sk-").hasSizeGreaterThan(30);
    assertThat(key.getBoolean("enabled")).isTrue();
    assertThat(key.getLong("id")).isPositive();
    assertThat(key.getString("prefix")).isEqualTo(key.getString("api_key").substring(0, 11));
    assertThat(key.getInteger("allowed_rpm")).isEqualTo(160);
    assertThat(key.getValue("allowed_tpm")).isNull();
    assertThat(key.getValue("models")).isNull();
    assertThat(key.getValue("expires_at")).isNull();
    assertThat(key.getString("user_id")).isEqualTo("alice");
    assertThat(key.getString("created_at")).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{1,3})?Z");

    Http.Response list = get("/api/v1/api_keys?user_id=alice");
    assertThat(list.status()).isEqualTo(200);
    JsonObject listed = array(list).getJsonObject(0);
    assertThat(listed.getLong("id")).isEqualTo(key.getLong("id"));
    assertThat(listed.fieldNames()).containsExactlyInAnyOrder("id", "user_id", "prefix", "allowed_rpm", "allowed_tpm",
        "models", "enabled", "expires_at", "created_at", "last_used_at", "priority", "max_concurrent_requests",
        "queue_weight");
    assertThat(array(get("/api/v1/api_keys")).size()).isGreaterThanOrEqualTo(1);
  }

  @Test
  void generateApiKeyTakesLimitsModelsAndExpiry() {
    String model = modelName();
    createModel(model);
    Instant expires = Instant.now().plusSeconds(86_400).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
    JsonObject key = generateKey(new JsonObject().put("user_id", "bob").put("allowed_rpm", "30").put("allowed_tpm", 5000)
        .put("models", new JsonArray().add(model).add(model)).put("expires_at", expires.toString())
        .put("priority", 7).put("max_concurrent_requests", 3).put("queue_weight", 2));
    assertThat(key.getInteger("priority")).isEqualTo(7);
    assertThat(key.getInteger("max_concurrent_requests")).isEqualTo(3);
    assertThat(key.getInteger("queue_weight")).isEqualTo(2);
    assertThat(key.getInteger("allowed_rpm")).isEqualTo(30);
    assertThat(key.getInteger("allowed_tpm")).isEqualTo(5000);
    assertThat(key.getJsonArray("models")).containsExactly(model);
    assertThat(Instant.parse(key.getString("expires_at"))).isEqualTo(expires);
    JsonObject row = tableRows("api_keys", "?limit=1").getJsonObject(0);
    assertThat(row.getLong("id")).isEqualTo(key.getLong("id"));
    assertThat(row.getJsonArray("models")).containsExactly(model);
    assertThat(row.getBoolean("enabled")).isTrue();
    assertThat(Instant.parse(row.getString("expires_at"))).isEqualTo(expires);
    assertThat(row.getInteger("max_concurrent_requests")).as("stored").isEqualTo(3);
    JsonObject listed = array(get("/api/v1/api_keys?user_id=bob")).stream().map(JsonObject.class::cast)
        .filter(k -> k.getLong("id").equals(key.getLong("id"))).findFirst().orElseThrow();
    assertThat(listed.getInteger("priority")).as("read back").isEqualTo(7);
    assertThat(listed.getInteger("queue_weight")).isEqualTo(2);
  }

  @Test
  void generateApiKeyValidationNamesEveryBadField() {
    JsonObject all = errors(post("/api/v1/generate_api_key", new JsonObject().put("user_id", "").put("allowed_rpm", "abc")
        .put("allowed_tpm", 0).put("models", new JsonArray().add("x").add(5)).put("expires_at", "yesterday")
        .put("extra", 1)));
    assertThat(all).isEqualTo(new JsonObject()
        .put("user_id", new JsonArray().add("Shorter than minimum length 1."))
        .put("allowed_rpm", new JsonArray().add("Not a valid integer."))
        .put("allowed_tpm", new JsonArray().add("Must be greater than or equal to 1 and less than or equal to 2147483647."))
        .put("models", new JsonObject().put("1", new JsonArray().add("Not a valid string.")))
        .put("expires_at", new JsonArray().add("Not a valid datetime."))
        .put("extra", new JsonArray().add("Unknown field.")));
    assertThat(errors(post("/api/v1/generate_api_key", "{}")))
        .isEqualTo(new JsonObject().put("user_id", new JsonArray().add("Missing data for required field.")));
    assertThat(errors(post("/api/v1/generate_api_key", new JsonObject().put("user_id", JsonObject.of().getValue("x"))
        .put("allowed_rpm", 2.5).put("models", new JsonArray()))))
        .isEqualTo(new JsonObject().put("user_id", new JsonArray().add("Field may not be null."))
            .put("allowed_rpm", new JsonArray().add("Not a valid integer."))
            .put("models", new JsonArray().add("Shorter than minimum length 1.")));
    assertThat(errors(post("/api/v1/generate_api_key", new JsonObject().put("user_id", "u")
        .put("models", new JsonArray().add("no/such-model")))))
        .isEqualTo(new JsonObject().put("models", new JsonObject().put("0", new JsonArray().add("Unknown model 'no/such-model'."))));
    assertThat(errors(post("/api/v1/generate_api_key", new JsonObject().put("user_id", "u")
        .put("expires_at", Instant.now().minusSeconds(60).toString()))))
        .isEqualTo(new JsonObject().put("expires_at", new JsonArray().add("Must be in the future.")));
    assertThat(errors(post("/api/v1/generate_api_key", "{\"user_id\": ")).getJsonArray("_schema"))
        .containsExactly("The request body is not valid JSON.");
    assertThat(errors(post("/api/v1/generate_api_key", "[1, 2]")).getJsonArray("_schema")).containsExactly("Invalid input type.");
    assertThat(errors(post("/api/v1/generate_api_key", "")).getJsonArray("_schema")).hasSize(1);
  }

  @Test
  void deleteApiKeyDeletesAKeyWithoutUsage() {
    JsonObject key = generateKey(new JsonObject().put("user_id", "carol"));
    Http.Response r = post("/api/v1/delete_api_key", new JsonObject().put("user_id", "carol").put("api_key_id", key.getLong("id")));
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json()).isEqualTo(new JsonObject().put("message", "API key deleted successfully"));
    assertThat(array(get("/api/v1/api_keys?user_id=carol"))).isEmpty();
    Http.Response again = post("/api/v1/delete_api_key", new JsonObject().put("user_id", "carol").put("api_key_id", key.getLong("id")));
    assertThat(again.status()).isEqualTo(404);
    assertThat(again.json()).isEqualTo(new JsonObject().put("error", "API key not found for the given user_id and api_key_id"));
  }

  @Test
  void deleteApiKeyDisablesAKeyWithUsageThenAnswers409() throws InterruptedException {
    String model = modelName();
    routableModel(model);
    JsonObject key = generateKey(new JsonObject().put("user_id", "dave"));
    long before = gw.app.services().metricsStore().count().await();
    assertThat(chat(key.getString("api_key"), model).status()).isEqualTo(200);
    awaitUsageRows(before + 1);
    // the toolkit's console sends the id as a string
    JsonObject body = new JsonObject().put("user_id", "dave").put("api_key_id", key.getLong("id").toString());
    Http.Response r = post("/api/v1/delete_api_key", body);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json()).isEqualTo(new JsonObject().put("message", "API key disabled successfully"));
    JsonObject listed = array(get("/api/v1/api_keys?user_id=dave")).getJsonObject(0);
    assertThat(listed.getBoolean("enabled")).isFalse();
    Http.Response again = post("/api/v1/delete_api_key", body);
    assertThat(again.status()).isEqualTo(409);
    assertThat(again.json()).isEqualTo(new JsonObject().put("message", "API key already disabled"));
  }

  @Test
  void deleteApiKeyNeedsTheRightUserAndValidInput() {
    JsonObject key = generateKey(new JsonObject().put("user_id", "erin"));
    Http.Response other = post("/api/v1/delete_api_key", new JsonObject().put("user_id", "mallory").put("api_key_id", key.getLong("id")));
    assertThat(other.status()).isEqualTo(404);
    assertThat(other.json().getString("error")).isEqualTo("API key not found for the given user_id and api_key_id");
    assertThat(post("/api/v1/delete_api_key", new JsonObject().put("user_id", "erin").put("api_key_id", 999_999)).status())
        .isEqualTo(404);
    assertThat(errors(post("/api/v1/delete_api_key", "{}"))).isEqualTo(new JsonObject()
        .put("user_id", new JsonArray().add("Missing data for required field."))
        .put("api_key_id", new JsonArray().add("Missing data for required field.")));
    assertThat(errors(post("/api/v1/delete_api_key", new JsonObject().put("user_id", 7).put("api_key_id", "seven"))))
        .isEqualTo(new JsonObject().put("user_id", new JsonArray().add("Not a valid string."))
            .put("api_key_id", new JsonArray().add("Not a valid integer.")));
    assertThat(array(get("/api/v1/api_keys?user_id=erin")).getJsonObject(0).getBoolean("enabled")).isTrue();
  }

  // ---- models

  @Test
  void modelsAreCreatedListedAndFoundByNameRawOrEncoded() {
    String name = modelName();
    long id = createModel(name);
    Http.Response dup = post("/api/v1/models", new JsonObject().put("name", name));
    assertThat(dup.status()).isEqualTo(400);
    assertThat(dup.json()).isEqualTo(new JsonObject().put("message", "Model already exists."));

    Http.Response raw = get("/api/v1/models/" + name);
    assertThat(raw.status()).as(raw.body().toString()).isEqualTo(200);
    assertThat(raw.json().getLong("id")).isEqualTo(id);
    assertThat(raw.json().getString("name")).isEqualTo(name);
    assertThat(raw.json().getInteger("replicas")).isZero();
    assertThat(raw.json().getBoolean("active")).isFalse();
    Http.Response encoded = get("/api/v1/models/" + name.replace("/", "%2F"));
    assertThat(encoded.status()).isEqualTo(200);
    assertThat(encoded.json()).isEqualTo(raw.json());
    Http.Response lower = get("/api/v1/models/" + name.replace("/", "%2f"));
    assertThat(lower.json().getLong("id")).isEqualTo(id);

    Http.Response unknown = get("/api/v1/models/NousResearch%2FNo-Such-Model");
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.json()).isEqualTo(new JsonObject().put("error", "Model not found"));
    assertThat(get("/api/v1/models/no/such/model").status()).isEqualTo(404);

    JsonObject listed = array(get("/api/v1/models")).stream().map(JsonObject.class::cast)
        .filter(m -> m.getString("name").equals(name)).findFirst().orElseThrow();
    assertThat(listed.getLong("id")).isEqualTo(id);
    assertThat(listed.getInteger("replicas")).isZero();
    assertThat(listed.getBoolean("active")).isFalse();
  }

  @Test
  void createModelValidation() {
    assertThat(errors(post("/api/v1/models", "{}")))
        .isEqualTo(new JsonObject().put("name", new JsonArray().add("Missing data for required field.")));
    assertThat(errors(post("/api/v1/models", new JsonObject().put("name", ""))))
        .isEqualTo(new JsonObject().put("name", new JsonArray().add("Shorter than minimum length 1.")));
    assertThat(errors(post("/api/v1/models", new JsonObject().put("name", 5).put("size", "8B"))))
        .isEqualTo(new JsonObject().put("name", new JsonArray().add("Not a valid string."))
            .put("size", new JsonArray().add("Unknown field.")));
    assertThat(errors(post("/api/v1/models", new JsonObject().put("name", "x".repeat(256)))).getJsonArray("name"))
        .containsExactly("Longer than maximum length 255.");
  }

  @Test
  void theModelListIsDualModeAndFiltersActiveModels() {
    String active = modelName();
    routableModel(active);
    String idle = modelName();
    createModel(idle);
    JsonArray adminList = array(admin(HttpMethod.GET, "/api/v1/models?active=1", null));
    assertThat(adminList.stream().map(m -> ((JsonObject) m).getString("name"))).contains(active).doesNotContain(idle);
    JsonObject a = adminList.stream().map(JsonObject.class::cast).filter(m -> m.getString("name").equals(active))
        .findFirst().orElseThrow();
    assertThat(a.getInteger("replicas")).isEqualTo(1);
    assertThat(a.getBoolean("active")).isTrue();
    assertThat(array(get("/api/v1/models?active=false")).stream().map(m -> ((JsonObject) m).getString("name")))
        .contains(active, idle);
    assertThat(errors(get("/api/v1/models?active=maybe")))
        .isEqualTo(new JsonObject().put("active", new JsonArray().add("Not a valid boolean.")));
    assertThat(call(HttpMethod.GET, "/api/v1/models?active=maybe", null, null).status()).as("credentials first")
        .isEqualTo(401);

    String all = generateKey(new JsonObject().put("user_id", "lister")).getString("api_key");
    Http.Response openAi = call(HttpMethod.GET, "/api/v1/models", all, null);
    assertThat(openAi.status()).isEqualTo(200);
    assertThat(openAi.json().getString("object")).isEqualTo("list");
    assertThat(openAi.json().getJsonArray("data").stream().map(m -> ((JsonObject) m).getString("id"))).contains(active, idle);
    Http.Response activeOnly = call(HttpMethod.GET, "/api/v1/models?active=1", all, null);
    assertThat(activeOnly.json().getJsonArray("data").stream().map(m -> ((JsonObject) m).getString("id")))
        .contains(active).doesNotContain(idle);

    String restricted = generateKey(new JsonObject().put("user_id", "lister").put("models", new JsonArray().add(idle)))
        .getString("api_key");
    assertThat(call(HttpMethod.GET, "/api/v1/models", restricted, null).json().getJsonArray("data").stream()
        .map(m -> ((JsonObject) m).getString("id"))).containsExactly(idle);

    JsonObject disabled = generateKey(new JsonObject().put("user_id", "lister-2"));
    assertThat(chat(disabled.getString("api_key"), active).status()).isEqualTo(200);
    gw.app.services().apiKeys().setEnabled(disabled.getLong("id"), false).await();
    gw.app.services().keyCache().upsert(gw.app.services().apiKeys().byId(disabled.getLong("id")).await().orElseThrow());
    Http.Response refused = call(HttpMethod.GET, "/api/v1/models", disabled.getString("api_key"), null);
    assertThat(refused.status()).isEqualTo(401);
    assertThat(refused.json().getJsonObject("error").getString("code")).isEqualTo("invalid_api_key");
  }

  @Test
  void deletingAModelRemovesItsReplicasAndRulesAndIsIdempotent() throws InterruptedException {
    String name = modelName();
    long id = createModel(name);
    long byEndpoint = addReplica(id, "http://10.9.8.7:8000");
    Http.Response vm = post("/api/v1/models/" + id + "/replicas", vmRequest("vm-del"));
    assertThat(vm.status()).isEqualTo(201);
    long pending = vm.json().getLong("replica_id");
    assertThat(gw.app.services().models().securityRules(pending).await()).isNotEmpty();

    assertThat(admin(HttpMethod.DELETE, "/api/v1/models/" + id, null).status()).isEqualTo(204);
    assertThat(gw.app.services().models().replicaById(byEndpoint).await()).isEmpty();
    assertThat(gw.app.services().models().replicaById(pending).await()).isEmpty();
    assertThat(gw.app.services().models().securityRules(pending).await()).isEmpty();
    assertThat(get("/api/v1/models/" + name).status()).isEqualTo(404);
    assertThat(get("/api/v1/models/" + id + "/replicas").status()).isEqualTo(404);
    assertThat(admin(HttpMethod.DELETE, "/api/v1/models/" + id, null).status()).as("idempotent, as the toolkit").isEqualTo(204);
    Http.Response notNumeric = admin(HttpMethod.DELETE, "/api/v1/models/abc", null);
    assertThat(notNumeric.status()).isEqualTo(405);
  }

  // ---- replicas

  static JsonObject vmRequest(String vmName) {
    return new JsonObject().put("endpoint", "").put("rate_limit", 30).put("create_vm", true)
        .put("vm_creation_details", new JsonObject()
            .put("name", vmName)
            .put("environment_name", "default-CANADA-1")
            .put("image_name", "Ubuntu Server 22.04 LTS R535 CUDA 12.2")
            .put("flavor_name", "n1-RTX-A6000x1")
            .put("assign_floating_ip", true)
            .put("key_name", "sample-key")
            .put("port", 8000)
            .put("security_rules", new JsonArray()
                .add(new JsonObject().put("direction", "ingress").put("protocol", "tcp").put("ethertype", "IPv4")
                    .put("remote_ip_prefix", "0.0.0.0/0").put("port_range_min", 22).put("port_range_max", 22))
                .add(new JsonObject().put("remote_ip_prefix", "203.0.113.0/24").put("port_range_min", 9000)
                    .put("port_range_max", 9100)))
            .put("run_command", "docker run vllm/vllm-openai"));
  }

  @Test
  void replicasByEndpointAreNormalisedListedWithStateAndUniquePerModel() {
    String name = modelName();
    long id = createModel(name);
    String base = simulatorFor(name);
    Http.Response created = post("/api/v1/models/" + id + "/replicas",
        new JsonObject().put("endpoint", base + "/v1/chat/completions").put("rate_limit", 12).put("create_vm", false));
    assertThat(created.status()).isEqualTo(201);
    long replicaId = created.json().getLong("replica_id");

    JsonArray replicas = array(get("/api/v1/models/" + id + "/replicas"));
    assertThat(replicas).hasSize(1);
    JsonObject r = replicas.getJsonObject(0);
    assertThat(r.getLong("id")).isEqualTo(replicaId);
    assertThat(r.getLong("model_id")).isEqualTo(id);
    assertThat(r.getString("endpoint")).isEqualTo(base);
    assertThat(r.getInteger("rate_limit")).isEqualTo(12);
    assertThat(r.getString("vm_status")).isEqualTo("SUCCESS");
    assertThat(r.fieldNames()).contains("id", "model_id", "endpoint", "rate_limit", "flavor_name", "vm_status", "name",
        "environment_name", "image_name", "assign_floating_ip", "run_command", "key_name", "vm_id", "error_message",
        "security_rules", "state");
    assertThat(r.getJsonObject("state").getBoolean("healthy")).isTrue();
    assertThat(r.getJsonObject("state").getInteger("in_flight")).isZero();

    Http.Response dup = post("/api/v1/models/" + id + "/replicas", new JsonObject().put("endpoint", base + "/v1/"));
    assertThat(dup.status()).isEqualTo(400);
    assertThat(dup.json()).isEqualTo(new JsonObject().put("error", "Endpoint already exists"));
    long other = createModel(modelName());
    assertThat(post("/api/v1/models/" + other + "/replicas", new JsonObject().put("endpoint", base)).status())
        .as("uniqueness is per model, as in the toolkit").isEqualTo(201);
  }

  @Test
  void replicaCreationErrors() {
    long id = createModel(modelName());
    Http.Response missingModel = post("/api/v1/models/987654/replicas", new JsonObject().put("endpoint", "http://h:1"));
    assertThat(missingModel.status()).isEqualTo(404);
    assertThat(missingModel.json()).isEqualTo(new JsonObject().put("error", "Model not found"));
    assertThat(get("/api/v1/models/987654/replicas").json()).isEqualTo(new JsonObject().put("error", "Model not found"));

    assertThat(errors(post("/api/v1/models/" + id + "/replicas", "{}")))
        .isEqualTo(new JsonObject().put("endpoint", new JsonArray().add("LLM EndPoint URL must not be empty.")));
    assertThat(errors(post("/api/v1/models/" + id + "/replicas", new JsonObject().put("endpoint", "ftp://host/x")))
        .getJsonArray("endpoint").getString(0)).startsWith("Not a valid http(s) URL");
    assertThat(errors(post("/api/v1/models/" + id + "/replicas", new JsonObject().put("endpoint", "http://h:1")
        .put("rate_limit", "fast").put("create_vm", "perhaps").put("weight", 3))))
        .isEqualTo(new JsonObject().put("rate_limit", new JsonArray().add("Not a valid integer."))
            .put("create_vm", new JsonArray().add("Not a valid boolean."))
            .put("weight", new JsonArray().add("Unknown field.")));
    assertThat(errors(post("/api/v1/models/" + id + "/replicas", new JsonObject().put("create_vm", true))))
        .isEqualTo(new JsonObject().put("vm_creation_details",
            new JsonArray().add("VM creation details must be provided when create_vm is True.")));
    assertThat(errors(post("/api/v1/models/" + id + "/replicas", "not json")).getJsonArray("_schema")).hasSize(1);
    Http.Response notAnId = post("/api/v1/models/x1/replicas", new JsonObject().put("endpoint", "http://h:1"));
    assertThat(notAnId.status()).as("x1/replicas can only be a model name, which is GET only").isEqualTo(405);
    assertThat(notAnId.header("allow")).isEqualTo("GET");
  }

  @Test
  void createVmRecordsAPendingReplicaWithItsRulesAndAnnouncesIt() throws InterruptedException {
    String name = modelName();
    long id = createModel(name);
    Http.Response r = post("/api/v1/models/" + id + "/replicas", vmRequest("inference-vm-2"));
    assertThat(r.status()).as(r.body().toString()).isEqualTo(201);
    long replicaId = r.json().getLong("replica_id");
    assertThat(awaitProvisioning(replicaId, "create")).isEqualTo(new JsonObject().put("replica_id", replicaId)
        .put("action", "create"));

    JsonObject replica = array(get("/api/v1/models/" + id + "/replicas")).getJsonObject(0);
    assertThat(replica.getString("vm_status")).isEqualTo(ReplicaRow.PENDING);
    assertThat(replica.getValue("endpoint")).isNull();
    assertThat(replica.getString("name")).isEqualTo("inference-vm-2");
    assertThat(replica.getString("environment_name")).isEqualTo("default-CANADA-1");
    assertThat(replica.getString("image_name")).isEqualTo("Ubuntu Server 22.04 LTS R535 CUDA 12.2");
    assertThat(replica.getString("flavor_name")).isEqualTo("n1-RTX-A6000x1");
    assertThat(replica.getString("key_name")).isEqualTo("sample-key");
    assertThat(replica.getString("run_command")).isEqualTo("docker run vllm/vllm-openai");
    assertThat(replica.getBoolean("assign_floating_ip")).isTrue();
    assertThat(replica.getInteger("port")).isEqualTo(8000);
    assertThat(replica.getInteger("rate_limit")).isEqualTo(30);
    assertThat(replica.getValue("state")).as("nothing to route to yet").isNull();
    List<String> rules = new ArrayList<>();
    for (Object o : replica.getJsonArray("security_rules")) {
      JsonObject rule = (JsonObject) o;
      rules.add(rule.getString("direction") + " " + rule.getString("protocol") + " " + rule.getString("ethertype") + " "
          + rule.getString("remote_ip_prefix") + " " + rule.getInteger("port_range_min") + "-" + rule.getInteger("port_range_max"));
    }
    assertThat(rules).containsExactly(
        "ingress tcp IPv4 0.0.0.0/0 22-22",
        "ingress tcp IPv4 203.0.113.0/24 9000-9100",
        "ingress tcp IPv4 0.0.0.0/0 8000-8000");
    JsonArray ruleRows = tableRows("replica_security_rules", "?limit=1000");
    assertThat(ruleRows.stream().filter(o -> ((JsonObject) o).getLong("replica_id") == replicaId)).hasSize(3);

    Http.Response m = get("/api/v1/models/" + name);
    assertThat(m.json().getInteger("replicas")).isEqualTo(1);
    assertThat(m.json().getBoolean("active")).isFalse();
  }

  @Test
  void createVmValidationIsNestedAsInTheToolkit() {
    long id = createModel(modelName());
    JsonObject body = vmRequest("x");
    JsonObject details = body.getJsonObject("vm_creation_details");
    details.remove("image_name");
    details.put("name", " bad name!").put("port", "http").put("assign_floating_ip", "sometimes").put("colour", "red");
    details.put("security_rules", new JsonArray()
        .add(new JsonObject().put("direction", "sideways").put("protocol", "icmp").put("ethertype", "IPv5")
            .put("port_range_min", 10).put("port_range_max", 5).put("foo", 1))
        .add("not an object")
        .add(new JsonObject().put("remote_ip_prefix", "300.1.2.3/40").put("port_range_min", -1))
        .add(new JsonObject().put("port_range_min", 80).put("port_range_max", 80)));
    JsonObject vm = errors(post("/api/v1/models/" + id + "/replicas", body)).getJsonObject("vm_creation_details");
    assertThat(vm.getJsonArray("image_name")).containsExactly("Missing data for required field.");
    assertThat(vm.getJsonArray("name").getString(0)).startsWith("Invalid name format.");
    assertThat(vm.getJsonArray("port")).containsExactly("Not a valid integer.");
    assertThat(vm.getJsonArray("assign_floating_ip")).containsExactly("Not a valid boolean.");
    assertThat(vm.getJsonArray("colour")).containsExactly("Unknown field.");
    JsonObject rules = vm.getJsonObject("security_rules");
    assertThat(rules.fieldNames()).containsExactlyInAnyOrder("0", "1", "2");
    assertThat(rules.getJsonObject("0")).isEqualTo(new JsonObject()
        .put("direction", new JsonArray().add("Must be one of: ingress, egress."))
        .put("protocol", new JsonArray().add("Must be one of: tcp, udp."))
        .put("ethertype", new JsonArray().add("Must be one of: IPv4, IPv6."))
        .put("port_range_min", new JsonArray().add("port_range_min must be less than or equal to port_range_max."))
        .put("foo", new JsonArray().add("Unknown field.")));
    assertThat(rules.getJsonObject("1")).isEqualTo(new JsonObject().put("_schema", new JsonArray().add("Invalid input type.")));
    assertThat(rules.getJsonObject("2").getJsonArray("remote_ip_prefix")).hasSize(1);
    assertThat(rules.getJsonObject("2").getJsonArray("port_range_min"))
        .containsExactly("Must be greater than or equal to 0 and less than or equal to 65535.");
    assertThat(rules.getJsonObject("2").getJsonArray("port_range_max")).containsExactly("Missing data for required field.");

    JsonObject notObject = errors(post("/api/v1/models/" + id + "/replicas", new JsonObject().put("create_vm", true)
        .put("vm_creation_details", "big GPU")));
    assertThat(notObject).isEqualTo(new JsonObject().put("vm_creation_details",
        new JsonObject().put("_schema", new JsonArray().add("Invalid input type."))));
    assertThat(array(get("/api/v1/models/" + id + "/replicas"))).isEmpty();
  }

  @Test
  void replicasRateLimitIsUpdated() {
    long id = createModel(modelName());
    long replicaId = addReplica(id, "http://10.1.2.3:8000");
    assertThat(admin(HttpMethod.PUT, "/api/v1/models/replicas/" + replicaId, new JsonObject().put("rate_limit", 50)).status())
        .isEqualTo(204);
    assertThat(array(get("/api/v1/models/" + id + "/replicas")).getJsonObject(0).getInteger("rate_limit")).isEqualTo(50);
    assertThat(gw.app.services().registry().replica(replicaId).row().rateLimit()).as("the router sees it at once")
        .isEqualTo(50);
    Http.Response missing = admin(HttpMethod.PUT, "/api/v1/models/replicas/999999", new JsonObject().put("rate_limit", 5));
    assertThat(missing.status()).isEqualTo(404);
    assertThat(missing.json()).isEqualTo(new JsonObject().put("error", "Replica not found"));
    assertThat(errors(admin(HttpMethod.PUT, "/api/v1/models/replicas/" + replicaId, "{}")))
        .isEqualTo(new JsonObject().put("rate_limit", new JsonArray().add("Missing data for required field.")));
    assertThat(errors(admin(HttpMethod.PUT, "/api/v1/models/replicas/" + replicaId, new JsonObject().put("rate_limit", 0))))
        .isEqualTo(new JsonObject().put("rate_limit",
            new JsonArray().add("Must be greater than or equal to 1 and less than or equal to 2147483647.")));
  }

  @Test
  void replicasAreDeletedWithTheirRulesAndVmDeletionIsAnnounced() throws InterruptedException {
    long id = createModel(modelName());
    long plain = addReplica(id, "http://10.3.3.3:8000");
    assertThat(admin(HttpMethod.DELETE, "/api/v1/replicas/" + plain, null).status()).isEqualTo(204);
    assertThat(array(get("/api/v1/models/" + id + "/replicas"))).isEmpty();
    assertThat(gw.app.services().registry().replica(plain)).isNull();
    assertThat(admin(HttpMethod.DELETE, "/api/v1/replicas/" + plain, null).status()).as("idempotent").isEqualTo(204);

    long withVm = post("/api/v1/models/" + id + "/replicas", vmRequest("vm-gone")).json().getLong("replica_id");
    gw.app.services().models().updateProvisioning(withVm, ReplicaRow.SUCCESS, 4242L, "http://10.4.4.4:8000", null).await();
    assertThat(errors(admin(HttpMethod.DELETE, "/api/v1/replicas/" + withVm + "?delete_vm=perhaps", null)))
        .isEqualTo(new JsonObject().put("delete_vm", new JsonArray().add("Not a valid boolean.")));
    assertThat(admin(HttpMethod.DELETE, "/api/v1/replicas/" + withVm + "?delete_vm=true", null).status()).isEqualTo(204);
    assertThat(awaitProvisioning(withVm, "delete")).isEqualTo(new JsonObject().put("replica_id", withVm)
        .put("action", "delete").put("vm_id", 4242));
    assertThat(gw.app.services().models().securityRules(withVm).await()).isEmpty();
    assertThat(gw.app.services().models().replicaById(withVm).await()).isEmpty();
  }

  // ---- tables

  @Test
  void tablesAreListedAndPagedNewestFirst() {
    Http.Response list = get("/api/v1/tables");
    assertThat(list.json()).isEqualTo(new JsonObject().put("tables",
        new JsonArray().add("api_keys").add("llm_models").add("replicas").add("replica_security_rules").add("metrics")));
    for (int i = 0; i < 5; i++) {
      createModel(modelName());
    }
    Http.Response first = get("/api/v1/tables/llm_models?limit=2");
    JsonObject page = first.json();
    JsonArray rows = page.getJsonArray("data");
    assertThat(rows).hasSize(2);
    long total = page.getLong("total");
    assertThat(total).isGreaterThanOrEqualTo(5);
    assertThat(rows.getJsonObject(0).getLong("id")).isGreaterThan(rows.getJsonObject(1).getLong("id"));
    assertThat(rows.getJsonObject(0).fieldNames()).containsExactly("id", "name", "routing_strategy", "created_at");
    Instant.parse(rows.getJsonObject(0).getString("created_at"));
    long cursor = page.getLong("next_before_id");
    assertThat(cursor).isEqualTo(rows.getJsonObject(1).getLong("id"));

    JsonArray next = tableRows("llm_models", "?limit=2&before_id=" + cursor);
    assertThat(next.getJsonObject(0).getLong("id")).isLessThan(cursor);
    JsonArray byOffset = tableRows("llm_models", "?limit=2&offset=2");
    assertThat(byOffset).isEqualTo(next);
    assertThat(tableRows("llm_models", "")).hasSize((int) Math.min(100, total));
    Http.Response last = get("/api/v1/tables/llm_models?limit=1000");
    assertThat(last.json().getValue("next_before_id")).isNull();
    Http.Response exact = get("/api/v1/tables/llm_models?limit=" + total);
    assertThat(exact.json().getValue("next_before_id")).as("a full last page has no next page").isNull();

    for (String table : List.of("api_keys", "llm_models", "replicas", "replica_security_rules", "metrics", "api_key", "metric")) {
      assertThat(get("/api/v1/tables/" + table).status()).as(table).isEqualTo(200);
    }
    for (String table : List.of("schema_migrations", "gateway_settings", "users", "api_keys;DROP")) {
      Http.Response r = get("/api/v1/tables/" + table);
      assertThat(r.status()).as(table).isEqualTo(404);
      assertThat(r.json()).isEqualTo(new JsonObject().put("error", "Detail not found"));
    }
    assertThat(errors(get("/api/v1/tables/metrics?limit=0&offset=-1&before_id=x")))
        .isEqualTo(new JsonObject()
            .put("limit", new JsonArray().add("Must be greater than or equal to 1 and less than or equal to 1000."))
            .put("offset", new JsonArray().add("Must be greater than or equal to 0 and less than or equal to 2147483647."))
            .put("before_id", new JsonArray().add("Not a valid integer.")));
    assertThat(errors(get("/api/v1/tables/metrics?limit=1001")).fieldNames()).containsExactly("limit");
  }

  @Test
  void tableValuesAreJsonFriendlyAndKeyHashesAreNeverShown() {
    JsonObject key = generateKey(new JsonObject().put("user_id", "tables-user"));
    JsonObject row = tableRows("api_keys", "?limit=1000").stream().map(JsonObject.class::cast)
        .filter(r -> r.getLong("id").equals(key.getLong("id"))).findFirst().orElseThrow();
    assertThat(row.fieldNames()).doesNotContain("key_hash", "api_key");
    assertThat(row.getString("key_prefix")).isEqualTo(key.getString("prefix"));
    assertThat(row.getValue("enabled")).isEqualTo(Boolean.TRUE);
    assertThat(row.getValue("models")).isNull();
    Instant.parse(row.getString("created_at"));
    Http.Response alias = get("/api/v1/tables/api_key?limit=1000");
    assertThat(alias.body().toString()).doesNotContain("key_hash").contains(key.getString("prefix"));
  }

  // ---- usage series

  @Test
  void usageSeriesCountsRequestsTokensAndLatencyPerBucket() throws InterruptedException {
    String model = modelName();
    routableModel(model);
    JsonObject key = generateKey(new JsonObject().put("user_id", "series"));
    long before = gw.app.services().metricsStore().count().await();
    long from = System.currentTimeMillis() / 1000 - 1;
    for (int i = 0; i < 3; i++) {
      assertThat(chat(key.getString("api_key"), model).status()).isEqualTo(200);
    }
    awaitUsageRows(before + 3);
    long to = System.currentTimeMillis() / 1000 + 60;

    Http.Response r = get("/api/v1/usage/series?from=" + from + "&to=" + to + "&bucket=3600&group_by=model");
    assertThat(r.status()).as(r.body().toString()).isEqualTo(200);
    JsonObject body = r.json();
    assertThat(body.getString("group_by")).isEqualTo("model");
    assertThat(body.getString("latency")).isEqualTo("exact");
    JsonObject series = body.getJsonArray("series").stream().map(JsonObject.class::cast)
        .filter(s -> model.equals(s.getValue("group"))).findFirst().orElseThrow();
    long requests = 0;
    long completion = 0;
    Double p95 = null;
    for (Object o : series.getJsonArray("points")) {
      JsonObject p = (JsonObject) o;
      assertThat(p.getLong("t") % 3600).isZero();
      requests += p.getLong("requests");
      completion += p.getLong("completion_tokens");
      if (p.getLong("requests") > 0) {
        p95 = p.getDouble("latency_p95");
        assertThat(p.getDouble("latency_p50")).isPositive().isLessThanOrEqualTo(p95);
        assertThat(p.getLong("errors")).isZero();
      }
    }
    assertThat(requests).isEqualTo(3);
    assertThat(completion).isEqualTo(12);
    assertThat(p95).isNotNull();

    JsonObject byKey = get("/api/v1/usage/series?from=" + from + "&to=" + to + "&bucket=60&group_by=api_key").json();
    JsonObject keySeries = byKey.getJsonArray("series").stream().map(JsonObject.class::cast)
        .filter(s -> key.getLong("id").equals(((Number) s.getValue("group")).longValue())).findFirst().orElseThrow();
    assertThat(keySeries.getJsonArray("points").stream().mapToLong(p -> ((JsonObject) p).getLong("requests")).sum())
        .isEqualTo(3);
    JsonObject ungrouped = get("/api/v1/usage/series?from=" + from + "&to=" + to + "&bucket=10").json();
    assertThat(ungrouped.getJsonArray("series")).hasSize(1);
    assertThat(ungrouped.getJsonArray("series").getJsonObject(0).getValue("group")).isNull();
    int buckets = ungrouped.getJsonArray("series").getJsonObject(0).getJsonArray("points").size();
    assertThat(buckets).isEqualTo((int) ((to - 1) / 10 - from / 10 + 1));
    assertThat(get("/api/v1/usage/series").status()).as("defaults: the last hour by minute").isEqualTo(200);

    assertThat(errors(get("/api/v1/usage/series?from=x&bucket=0&group_by=colour")).fieldNames())
        .containsExactlyInAnyOrder("from", "bucket", "group_by");
    assertThat(errors(get("/api/v1/usage/series?from=200&to=100")))
        .isEqualTo(new JsonObject().put("from", new JsonArray().add("Must be less than to.")));
    assertThat(errors(get("/api/v1/usage/series?from=0&to=1000000&bucket=1")).fieldNames()).containsExactly("bucket");
  }

  // ---- changes reach the OpenAI routes at once

  @Test
  void aKeyWorksAtOnceAndStopsAtOnceWhenDeletedOrDisabled() throws InterruptedException {
    String model = modelName();
    routableModel(model);
    JsonObject fresh = generateKey(new JsonObject().put("user_id", "prop"));
    assertThat(chat(fresh.getString("api_key"), model).status()).as("usable the moment it is created").isEqualTo(200);

    long before = gw.app.services().metricsStore().count().await();
    awaitUsageRows(before);
    JsonObject unused = generateKey(new JsonObject().put("user_id", "prop-2"));
    assertThat(post("/api/v1/delete_api_key", new JsonObject().put("user_id", "prop-2").put("api_key_id", unused.getLong("id")))
        .json().getString("message")).isEqualTo("API key deleted successfully");
    assertThat(chat(unused.getString("api_key"), model).status()).isEqualTo(401);

    awaitUsageRows(before + 1);
    Poll.until("the key's usage is recorded", Duration.ofSeconds(20),
        () -> gw.app.services().apiKeys().hasUsage(fresh.getLong("id")).await());
    assertThat(post("/api/v1/delete_api_key", new JsonObject().put("user_id", "prop").put("api_key_id", fresh.getLong("id")))
        .json().getString("message")).isEqualTo("API key disabled successfully");
    Http.Response refused = chat(fresh.getString("api_key"), model);
    assertThat(refused.status()).isEqualTo(401);
    assertThat(refused.json().getJsonObject("error").getString("message")).contains("disabled");
  }

  @Test
  void aReplicaAddedMakesItsModelRoutableAtOnceAndADeletedModelIs404() {
    String model = modelName();
    long id = createModel(model);
    String key = generateKey(new JsonObject().put("user_id", "routing")).getString("api_key");
    Http.Response none = chat(key, model);
    assertThat(none.status()).isEqualTo(503);
    assertThat(none.json().getJsonObject("error").getString("code")).isEqualTo("no_healthy_replica");
    addReplica(id, simulatorFor(model));
    assertThat(chat(key, model).status()).as("routable the moment the replica is added").isEqualTo(200);
    assertThat(admin(HttpMethod.DELETE, "/api/v1/models/" + id, null).status()).isEqualTo(204);
    Http.Response gone = chat(key, model);
    assertThat(gone.status()).isEqualTo(404);
    assertThat(gone.json().getJsonObject("error").getString("code")).isEqualTo("model_not_found");
  }

  // ---- the toolkit's client

  @Test
  void aSessionAsTheToolkitsClientRunsIt() throws InterruptedException {
    String model = "NousResearch/Meta-Llama-3.1-8B-Instruct-" + names.incrementAndGet();
    String endpoint = simulatorFor(model);
    // Models page: add the model, find its id in the list, add a replica by endpoint
    Http.Response created = post("/api/v1/models", new JsonObject().put("name", model));
    assertThat(created.status()).isEqualTo(201);
    long id = array(get("/api/v1/models")).stream().map(JsonObject.class::cast)
        .filter(m -> m.getString("name").equals(model)).findFirst().orElseThrow().getLong("id");
    assertThat(id).isEqualTo(created.json().getLong("id"));
    Http.Response replica = post("/api/v1/models/" + id + "/replicas",
        new JsonObject().put("endpoint", endpoint + "/v1/chat/completions").put("create_vm", false));
    assertThat(replica.status()).isEqualTo(201);
    assertThat(array(get("/api/v1/models/" + id + "/replicas")).getJsonObject(0).getString("vm_status")).isEqualTo("SUCCESS");
    // API keys page: generate a key for user "1"
    Http.Response key = post("/api/v1/generate_api_key", new JsonObject().put("user_id", "1"));
    assertThat(key.status()).isEqualTo(200);
    String apiKey = key.json().getString("api_key");
    plaintexts.add(apiKey);
    hashes.add(ApiKeys.sha256Hex(apiKey));
    long keyId = key.json().getLong("id");
    // Playground: chat on the toolkit's path
    Http.Response answer = chat("/api/v1/chat/completions", apiKey, model);
    assertThat(answer.status()).isEqualTo(200);
    assertThat(answer.json().getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content")).isNotBlank();
    // Monitoring: the usage row, newest first
    JsonObject row = Poll.value("the request's usage row", Duration.ofSeconds(20),
        () -> tableRows("metrics", "?limit=50").stream().map(JsonObject.class::cast)
            .filter(o -> o.getLong("api_key_id") != null && o.getLong("api_key_id") == keyId)
            .reduce((first, second) -> second).orElse(null),
        r -> r != null);
    assertThat(row.getString("model")).isEqualTo(model);
    assertThat(row.getInteger("status")).isEqualTo(200);
    assertThat(row.getInteger("completion_tokens")).isEqualTo(4);
    assertThat(row.getValue("stream")).isEqualTo(Boolean.FALSE);
    assertThat(row.getLong("created")).isCloseTo(System.currentTimeMillis() / 1000, org.assertj.core.data.Offset.offset(120L));
    // and the toolkit's table name for the same rows
    assertThat(tableRows("metric", "?limit=50").stream().anyMatch(o -> keyId == ((JsonObject) o).getLong("api_key_id", -1L)))
        .isTrue();
  }

  // ---- the HTTP surface

  @Test
  void bodiesOverOneMebibyteAre413InTheToolkitsShape() {
    String huge = "{\"name\": \"" + "x".repeat(1024 * 1024 + 10) + "\"}";
    Http.Response r = post("/api/v1/models", huge);
    assertThat(r.status()).isEqualTo(413);
    assertThat(r.json().getString("error")).contains("larger than");
    Http.Response unauthenticated = call(HttpMethod.POST, "/api/v1/models", null, huge);
    assertThat(unauthenticated.status()).as("refused for want of a key, before anything is read").isEqualTo(401);
    assertThat(get("/api/v1/tables").status()).as("the connection pool is still fine").isEqualTo(200);
  }

  @Test
  void unknownAdminPathsAre404AndWrongMethods405() {
    Http.Response unknown = get("/api/v1/no-such-thing");
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.json().getString("error")).startsWith("Not found");
    Http.Response method = admin(HttpMethod.PATCH, "/api/v1/models", "{}");
    assertThat(method.status()).isEqualTo(405);
    assertThat(method.header("allow")).isEqualTo("GET, POST");
    assertThat(method.json().getString("error")).contains("PATCH");
    Http.Response put = admin(HttpMethod.PUT, "/api/v1/models/12", "{}");
    assertThat(put.status()).isEqualTo(405);
    assertThat(put.header("allow")).isEqualTo("DELETE, GET");
    Http.Response openAi = get("/api/v1/chat/completions");
    assertThat(openAi.status()).isEqualTo(405);
    assertThat(openAi.json().getJsonObject("error").getString("code")).as("OpenAI paths keep OpenAI's shape")
        .isEqualTo("method_not_allowed");
  }

  @Test
  void theOpenApiDocumentIsServedWithoutCredentials() {
    Http.Response r = call(HttpMethod.GET, "/api/v1/openapi.json", null, null);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("content-type")).startsWith("application/json");
    assertThat(r.json().getString("openapi")).startsWith("3.");
    assertThat(r.json().getJsonObject("paths").fieldNames()).contains("/api/v1/generate_api_key", "/v1/chat/completions");
  }

  @Test
  void noResponseShowsAKeysHashOrPlaintextOnceCreated() throws InterruptedException {
    String model = modelName();
    long modelId = routableModel(model);
    JsonObject key = generateKey(new JsonObject().put("user_id", "secretive").put("models", new JsonArray().add(model)));
    String plaintext = key.getString("api_key");
    String hash = ApiKeys.sha256Hex(plaintext);
    long before = gw.app.services().metricsStore().count().await();
    assertThat(chat(plaintext, model).status()).isEqualTo(200);
    awaitUsageRows(before + 1);
    List<Http.Response> responses = new ArrayList<>();
    for (String path : List.of("/api/v1/api_keys", "/api/v1/tables/api_keys", "/api/v1/tables/api_key",
        "/api/v1/tables/metrics", "/api/v1/tables/replicas", "/api/v1/tables/llm_models",
        "/api/v1/tables/replica_security_rules", "/api/v1/models", "/api/v1/models/" + model,
        "/api/v1/models/" + modelId + "/replicas", "/api/v1/usage/series?group_by=api_key")) {
      responses.add(get(path));
    }
    responses.add(call(HttpMethod.GET, "/api/v1/models", plaintext, null));
    for (Http.Response r : responses) {
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.body().toString()).doesNotContain(hash).doesNotContain(plaintext);
    }
    assertThat(Collections.unmodifiableList(bodies)).noneSatisfy(b -> assertThat(b).contains(hash));
  }
}
