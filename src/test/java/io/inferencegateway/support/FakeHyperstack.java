package io.inferencegateway.support;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A stand-in for the Hyperstack (Infrahub) API, as far as the gateway uses it: the same paths under {@code /v1},
 * the same JSON envelopes ({@code status}, {@code message}, {@code instances} on create and list, {@code instance}
 * on retrieve, {@code error_reason} on errors), the {@code api_key} header required on every call. VMs live on
 * timers: CREATING, then BUILD (fixed IP), then ACTIVE, and the floating IP appears some time after ACTIVE. The
 * floating IP is {@link #vmHost}, so a test points the "VM" at a vLLM simulator on the replica's port.
 *
 * <p>Scripts per VM name make a VM go to ERROR, refuse the creation with {@code status: false}, never get a
 * floating IP, or come up without the firewall rules it was created with. Every call is recorded.
 */
public final class FakeHyperstack implements AutoCloseable {

  public static final String API_KEY = "hs-test-key-7f3a";

  /** What a VM of a given name does. */
  public enum Script { NORMAL, GOES_TO_ERROR, REFUSED, NO_FLOATING_IP, DROPS_RULES }

  public record Call(String method, String path, String query, JsonObject body) {}

  /** A VM as the fake keeps it; read it through {@link #vm(long)}. */
  public static final class FakeVm {
    public final long id;
    public final String name;
    public final JsonObject request;
    public volatile String status = "CREATING";
    public volatile String fixedIp;
    public volatile String floatingIp;
    public final List<JsonObject> rules = new CopyOnWriteArrayList<>();
    final Instant createdAt = Instant.now();

    FakeVm(long id, String name, JsonObject request) {
      this.id = id;
      this.name = name;
      this.request = request;
    }

    JsonObject json() {
      JsonObject request = this.request;
      return new JsonObject()
          .put("id", id)
          .put("name", name)
          .put("status", status)
          .put("environment", new JsonObject().put("id", 29862).put("name", request.getString("environment_name"))
              .put("org_id", 3971).put("region", "CANADA-1"))
          .put("image", new JsonObject().put("name", request.getString("image_name")))
          .put("flavor", new JsonObject().put("id", 111).put("name", request.getString("flavor_name"))
              .put("cpu", 28).put("ram", 58.0).put("gpu", "RTX-A6000").put("gpu_count", 1))
          .put("keypair", new JsonObject().put("name", request.getString("key_name")))
          .put("fixed_ip", fixedIp)
          .put("floating_ip", floatingIp)
          .put("floating_ip_status", floatingIp == null ? "NOT_ATTACHED" : "ATTACHED")
          .put("security_rules", new JsonArray(new ArrayList<>(rules)))
          .put("power_state", "ACTIVE".equals(status) ? "RUNNING" : "NOSTATE")
          .put("vm_state", "ACTIVE".equals(status) ? "active" : "building")
          .put("labels", new JsonArray())
          .put("locked", false)
          .put("created_at", createdAt.toString());
    }
  }

  private final Vertx vertx;
  private final HttpServer server;
  private final Map<Long, FakeVm> vms = new ConcurrentHashMap<>();
  private final Map<String, Script> scripts = new ConcurrentHashMap<>();
  private final List<Call> calls = new CopyOnWriteArrayList<>();
  private final AtomicLong ids = new AtomicLong(287_800);
  private final AtomicInteger ruleIds = new AtomicInteger(9_000);

  /** Where the "VMs" are: their floating IP (and fixed IP, when {@link #fixedIpIsVmHost}). */
  public volatile String vmHost = "127.0.0.1";
  public volatile boolean fixedIpIsVmHost;
  public volatile long creatingMs = 300;
  public volatile long buildMs = 300;
  public volatile long floatingIpDelayMs = 400;
  public volatile long deleteMs = 200;
  /** Delay before answering a create call (the VM is made at once): longer than the client's timeout loses the answer. */
  public volatile long createResponseDelayMs;

  public FakeHyperstack(Vertx vertx) {
    this.vertx = vertx;
    Router router = Router.router(vertx);
    router.route().handler(BodyHandler.create());
    router.route("/v1/*").handler(this::record);
    router.route("/v1/*").handler(this::authenticate);
    router.post("/v1/core/virtual-machines").handler(this::create);
    router.get("/v1/core/virtual-machines").handler(this::list);
    router.get("/v1/core/virtual-machines/:id").handler(this::retrieve);
    router.delete("/v1/core/virtual-machines/:id").handler(this::delete);
    router.post("/v1/core/virtual-machines/:id/sg-rules").handler(this::addRule);
    router.route().last().handler(ctx -> error(ctx, 404, "Not Found", "not_found"));
    this.server = vertx.createHttpServer().requestHandler(router);
    server.listen(0, "127.0.0.1").await();
  }

  public String baseUrl() {
    return "http://127.0.0.1:" + server.actualPort() + "/v1";
  }

  public void script(String vmName, Script script) {
    scripts.put(vmName, script);
  }

  public List<Call> calls() {
    return List.copyOf(calls);
  }

  public List<Call> calls(String method, String pathPrefix) {
    return calls.stream().filter(c -> c.method().equals(method) && c.path().startsWith(pathPrefix)).toList();
  }

  public List<Call> creates() {
    return calls.stream().filter(c -> c.method().equals("POST") && c.path().equals("/v1/core/virtual-machines"))
        .toList();
  }

  public FakeVm vm(long id) {
    return vms.get(id);
  }

  public List<FakeVm> vmsNamed(String name) {
    return vms.values().stream().filter(vm -> vm.name.equals(name)).toList();
  }

  /** A VM that exists before the test starts, as if a previous gateway had created it (no call recorded). */
  public FakeVm existingVm(String name, JsonObject request) {
    FakeVm vm = new FakeVm(ids.incrementAndGet(), name, request.copy().put("name", name));
    vms.put(vm.id, vm);
    lifecycle(vm);
    return vm;
  }

  // ---- handlers

  private void record(RoutingContext ctx) {
    JsonObject body = null;
    if (ctx.body() != null && ctx.body().length() > 0) {
      try {
        body = ctx.body().asJsonObject();
      } catch (RuntimeException e) {
        body = new JsonObject().put("_unparsable", ctx.body().asString());
      }
    }
    calls.add(new Call(ctx.request().method().name(), ctx.request().path(), ctx.request().query(), body));
    ctx.next();
  }

  private void authenticate(RoutingContext ctx) {
    String key = ctx.request().getHeader("api_key");
    if (key == null || !key.equals(API_KEY)) {
      error(ctx, 401, "Unauthorized: invalid or missing api_key", "unauthorized");
      return;
    }
    ctx.next();
  }

  private void create(RoutingContext ctx) {
    JsonObject body;
    try {
      body = ctx.body().asJsonObject();
    } catch (RuntimeException e) {
      error(ctx, 400, "Request body must be JSON", "invalid_payload");
      return;
    }
    if (body == null) {
      error(ctx, 400, "Request body must be JSON", "invalid_payload");
      return;
    }
    for (String field : List.of("name", "environment_name", "image_name", "flavor_name", "key_name", "count")) {
      if (body.getValue(field) == null) {
        error(ctx, 400, field + ": Missing data for required field.", "invalid_payload");
        return;
      }
    }
    if (body.getInteger("count") != 1) {
      error(ctx, 400, "count: this fake creates one VM per call", "invalid_payload");
      return;
    }
    String name = body.getString("name");
    if (name.length() > 50) {
      error(ctx, 400, "name: Longer than maximum length 50.", "invalid_payload");
      return;
    }
    if (scripts.getOrDefault(name, Script.NORMAL) == Script.REFUSED) {
      error(ctx, 400, "Quota exceeded: not enough n3-RTX-A6000x1 available in CANADA-1", "insufficient_capacity");
      return;
    }
    FakeVm vm = new FakeVm(ids.incrementAndGet(), name, body);
    vms.put(vm.id, vm);
    lifecycle(vm);
    JsonObject answer = new JsonObject().put("status", true).put("message", "Creating 1 virtual machine(s)")
        .put("instances", new JsonArray().add(vm.json()));
    if (createResponseDelayMs > 0) {
      vertx.setTimer(createResponseDelayMs, t -> send(ctx, 200, answer));
    } else {
      send(ctx, 200, answer);
    }
  }

  private void lifecycle(FakeVm vm) {
    Script script = scripts.getOrDefault(vm.name, Script.NORMAL);
    if (script != Script.DROPS_RULES) {
      JsonArray rules = vm.request.getJsonArray("security_rules", new JsonArray());
      for (Object o : rules) {
        vm.rules.add(storedRule((JsonObject) o));
      }
    }
    vertx.setTimer(creatingMs, t1 -> {
      if (!vms.containsKey(vm.id)) {
        return;
      }
      vm.status = "BUILD";
      vm.fixedIp = fixedIpIsVmHost ? vmHost : "10.0.0." + (vm.id % 250 + 2);
      vertx.setTimer(buildMs, t2 -> {
        if (!vms.containsKey(vm.id)) {
          return;
        }
        if (script == Script.GOES_TO_ERROR) {
          vm.status = "ERROR";
          return;
        }
        vm.status = "ACTIVE";
        boolean wantsIp = vm.request.getBoolean("assign_floating_ip", false);
        if (wantsIp && script != Script.NO_FLOATING_IP) {
          vertx.setTimer(floatingIpDelayMs, t3 -> {
            if (vms.containsKey(vm.id)) {
              vm.floatingIp = vmHost;
            }
          });
        }
      });
    });
  }

  private JsonObject storedRule(JsonObject rule) {
    return rule.copy().put("id", ruleIds.incrementAndGet()).put("status", "SUCCESS")
        .put("created_at", Instant.now().toString());
  }

  private void list(RoutingContext ctx) {
    String search = ctx.request().getParam("search");
    int page = Integer.parseInt(ctx.request().getParam("page", "1"));
    int size = Integer.parseInt(ctx.request().getParam("page_size", "30"));
    List<FakeVm> matching = vms.values().stream()
        .filter(vm -> search == null || vm.name.toLowerCase().contains(search.toLowerCase()))
        .sorted((a, b) -> Long.compare(a.id, b.id)).toList();
    JsonArray out = new JsonArray();
    matching.stream().skip((long) (page - 1) * size).limit(size).forEach(vm -> out.add(vm.json()));
    send(ctx, 200, new JsonObject().put("status", true).put("message", "Getting VM list successful")
        .put("instances", out).put("count", matching.size()).put("page", page).put("page_size", size));
  }

  private void retrieve(RoutingContext ctx) {
    FakeVm vm = vmOf(ctx);
    if (vm != null) {
      send(ctx, 200, new JsonObject().put("status", true).put("message", "Getting VM detail successful")
          .put("instance", vm.json()));
    }
  }

  private void delete(RoutingContext ctx) {
    FakeVm vm = vmOf(ctx);
    if (vm == null) {
      return;
    }
    vm.status = "DELETING";
    vertx.setTimer(deleteMs, t -> vms.remove(vm.id));
    send(ctx, 200, new JsonObject().put("status", true).put("message", "Virtual machine deleted successfully"));
  }

  private void addRule(RoutingContext ctx) {
    FakeVm vm = vmOf(ctx);
    if (vm == null) {
      return;
    }
    JsonObject rule = ctx.body().asJsonObject();
    for (String field : List.of("direction", "protocol", "ethertype", "remote_ip_prefix")) {
      if (rule == null || rule.getValue(field) == null) {
        error(ctx, 400, field + ": Missing data for required field.", "invalid_payload");
        return;
      }
    }
    JsonObject stored = storedRule(rule);
    vm.rules.add(stored);
    send(ctx, 200, new JsonObject().put("status", true).put("message", "Security rule added successfully")
        .put("security_rule", stored));
  }

  private FakeVm vmOf(RoutingContext ctx) {
    long id;
    try {
      id = Long.parseLong(ctx.pathParam("id"));
    } catch (NumberFormatException e) {
      error(ctx, 400, "Invalid virtual machine id", "invalid_payload");
      return null;
    }
    FakeVm vm = vms.get(id);
    if (vm == null) {
      error(ctx, 404, "Virtual machine " + id + " not found", "not_found");
    }
    return vm;
  }

  private static void error(RoutingContext ctx, int status, String message, String reason) {
    send(ctx, status, new JsonObject().put("status", false).put("message", message).put("error_reason", reason));
  }

  private static void send(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader("content-type", "application/json").end(body.encode());
  }

  @Override
  public void close() {
    server.close().await();
  }
}
