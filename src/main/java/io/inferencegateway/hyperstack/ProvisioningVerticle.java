package io.inferencegateway.hyperstack;

import io.inferencegateway.config.Addresses;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.config.Announcements;
import io.inferencegateway.routing.UpstreamTarget;
import io.inferencegateway.routing.VllmProbe;
import io.inferencegateway.store.ModelRow;
import io.inferencegateway.store.ModelStore;
import io.inferencegateway.store.ReplicaRow;
import io.inferencegateway.store.SecurityRuleRow;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Deploys replicas on Hyperstack and follows them until they serve, or fail.
 *
 * <p>Commands arrive on {@link Addresses#REPLICAS_PROVISIONING} from the admin API: {@code {"replica_id": n,
 * "action": "create"}} for a replica it recorded as PENDING with its VM details and firewall rules, and
 * {@code {"replica_id": n, "action": "delete", "vm_id": m}} when a replica is deleted with {@code delete_vm=true}.
 * Every PENDING replica is then stepped on a timer, one step at a time:
 * <ol>
 *   <li>no VM id yet: create the VM (cloud-init from {@link CloudInit}) and store its id at once;</li>
 *   <li>VM CREATING/BUILD: wait, until {@code vmTimeoutMs} after the replica was created; ERROR fails;</li>
 *   <li>VM ACTIVE without its (floating) IP: wait, under the same deadline;</li>
 *   <li>ACTIVE with an IP: make sure the firewall rules are on the VM, then wait for vLLM's {@code /health} and for
 *   {@code /v1/models} to list the model, until {@code healthTimeoutMs} after the VM became ACTIVE;</li>
 *   <li>then the endpoint is stored, the status becomes SUCCESS and the router takes the replica at once; or the
 *   status becomes FAILED with the reason in {@code error_message}.</li>
 * </ol>
 * Each change of phase is published on the same address, for the console: {@code {"replica_id", "model_id",
 * "phase", "message", "vm_id", "vm_status", "at"}} with phase {@code creating_vm}, {@code waiting_for_ip},
 * {@code waiting_for_vllm}, {@code ready} (plus {@code endpoint}), {@code failed} (plus {@code error}),
 * {@code deleting_vm} or {@code vm_deleted}. Messages without an {@code action} are such events and are ignored here.
 *
 * <p>Restarts: the state lives in the database (status, VM id, {@code created_at}, {@code updated_at}), so a new
 * gateway resumes every PENDING replica where the last one stopped. A PENDING replica without a VM id may have lost
 * its id between the API call and the database write: the VM is looked up by name before one is created. Deadlines
 * are counted from the stored times, so they do not restart with the gateway.
 *
 * <p>Without a Hyperstack API key the verticle stays idle (the admin API refuses {@code create_vm} then).
 */
public final class ProvisioningVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(ProvisioningVerticle.class);

  public static final String CREATING_VM = "creating_vm";
  public static final String WAITING_FOR_IP = "waiting_for_ip";
  public static final String WAITING_FOR_VLLM = "waiting_for_vllm";
  public static final String READY = "ready";
  public static final String FAILED = "failed";
  public static final String DELETING_VM = "deleting_vm";
  public static final String VM_DELETED = "vm_deleted";

  static final String NO_KEY = "No Hyperstack API key is configured (HYPERSTACK_API_KEY): cannot create the VM.";
  private static final int DEFAULT_VLLM_PORT = 8000;
  private static final int DELETE_ATTEMPTS = 5;
  private static final long PROBE_TIMEOUT_MS = 5000;

  private final ModelStore store;
  private final Announcements announcements;
  private final GatewayConfig.Hyperstack config;
  private final Map<Long, Job> jobs = new HashMap<>();
  private HyperstackClient hyperstack;
  private HttpClient probeClient;
  private VllmProbe probe;
  private long timer = -1;
  private boolean resumed;

  public ProvisioningVerticle(ModelStore store, Announcements announcements, GatewayConfig.Hyperstack config) {
    this.store = store;
    this.announcements = announcements;
    this.config = config;
  }

  /** What this verticle knows of one PENDING replica. Touched only on the verticle's event loop. */
  private static final class Job {
    final long replicaId;
    /** Found PENDING at start-up: an earlier gateway may have created its VM without storing the id. */
    final boolean resumed;
    Long vmId;
    String modelName;
    boolean busy;
    /** Finished, or the replica was deleted: nothing more may be written or published for it. */
    boolean stopped;
    boolean createInFlight;
    /** The last create call got no answer: the VM may exist. */
    boolean createUnknown;
    /** This gateway saw the VM before it was ready (so it saw the moment it became ready). */
    boolean sawNotReady;
    boolean rulesChecked;
    Instant activeSince;
    String lastError;
    String published;

    Job(long replicaId, boolean resumed) {
      this.replicaId = replicaId;
      this.resumed = resumed;
    }
  }

  @Override
  public Future<?> start() {
    MessageConsumer<JsonObject> consumer = vertx.eventBus().consumer(Addresses.REPLICAS_PROVISIONING, this::onMessage);
    if (config.apiKey() == null) {
      Future<Void> warn = store.replicasWithStatus(ReplicaRow.PENDING).<Void>map(pending -> {
        if (!pending.isEmpty()) {
          log.warn("{} replica(s) are PENDING on Hyperstack but no Hyperstack API key is configured: they are not"
              + " followed until HYPERSTACK_API_KEY is set", pending.size());
        }
        return null;
      }).recover(err -> Future.succeededFuture());
      return Future.join(consumer.completion(), warn);
    }
    hyperstack = new HyperstackClient(vertx, config);
    probeClient = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout((int) PROBE_TIMEOUT_MS)
            .setKeepAlive(false), new PoolOptions().setHttp1MaxSize(4));
    probe = new VllmProbe(probeClient, PROBE_TIMEOUT_MS);
    timer = vertx.setPeriodic(config.pollIntervalMs(), id -> tick());
    if (config.gatewayCidr().equals("0.0.0.0/0")) {
      log.info("Hyperstack provisioning is on; replica VMs open their vLLM port to 0.0.0.0/0"
          + " (set hyperstack.gatewayCidr to the gateway's address to narrow it)");
    }
    return consumer.completion().compose(v -> resume().recover(err -> {
      log.warn("Could not load the replicas being provisioned (will retry): {}", err.getMessage());
      return Future.succeededFuture();
    }));
  }

  @Override
  public Future<?> stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    if (hyperstack != null) {
      hyperstack.close();
    }
    return probeClient == null ? Future.succeededFuture() : probeClient.close();
  }

  // ---- commands

  private void onMessage(Message<JsonObject> msg) {
    JsonObject body = msg.body();
    String action = body == null ? null : body.getString("action");
    if (action == null) {
      return; // a progress event (ours or another gateway's)
    }
    Long replicaId;
    try {
      replicaId = body.getLong("replica_id");
    } catch (ClassCastException e) {
      replicaId = null;
    }
    if (replicaId == null) {
      log.warn("Ignoring a provisioning command without replica_id: {}", body.encode());
      return;
    }
    switch (action) {
      case "create" -> onCreate(replicaId);
      case "delete" -> onDelete(replicaId, body.getValue("vm_id") instanceof Number n ? n.longValue() : null);
      default -> log.warn("Ignoring unknown provisioning action '{}'", action);
    }
  }

  private void onCreate(long replicaId) {
    if (hyperstack == null) {
      store.updateProvisioning(replicaId, ReplicaRow.FAILED, null, null, NO_KEY).onSuccess(updated -> {
        if (updated) {
          publish(event(replicaId, null, FAILED, NO_KEY, null, null).put("error", NO_KEY));
        }
      });
      return;
    }
    if (!jobs.containsKey(replicaId)) {
      Job job = new Job(replicaId, false);
      jobs.put(replicaId, job);
      run(job);
    }
  }

  private void onDelete(long replicaId, Long vmIdFromEvent) {
    Job job = jobs.remove(replicaId);
    Long vmId = vmIdFromEvent != null ? vmIdFromEvent : job == null ? null : job.vmId;
    if (job != null) {
      job.stopped = true;
      if (vmId == null && job.createInFlight) {
        // The create call's completion sees the job stopped and deletes the VM it got.
        publish(event(replicaId, null, DELETING_VM, "The VM is being created; it is deleted as soon as Hyperstack"
            + " returns its id", null, null));
        return;
      }
    }
    if (vmId == null) {
      log.info("Replica {} was deleted with delete_vm, but no VM was created for it: nothing to delete", replicaId);
      return;
    }
    if (hyperstack == null) {
      log.warn("Replica {}: cannot delete VM {} without a Hyperstack API key; delete it in the Hyperstack console",
          replicaId, vmId);
      return;
    }
    deleteVm(replicaId, vmId, 1, "The replica was deleted with delete_vm");
  }

  private void deleteVm(long replicaId, long vmId, int attempt, String why) {
    if (attempt == 1) {
      log.info("Replica {}: deleting VM {} on Hyperstack ({})", replicaId, vmId, why);
      publish(event(replicaId, null, DELETING_VM, why, vmId, null));
    }
    hyperstack.deleteVm(vmId).onComplete(ar -> {
      if (ar.succeeded() || (ar.cause() instanceof HyperstackException he && he.notFound())) {
        String m = ar.succeeded() ? "VM " + vmId + " deleted" : "VM " + vmId + " was already gone";
        log.info("Replica {}: {}", replicaId, m);
        publish(event(replicaId, null, VM_DELETED, m, vmId, null));
        return;
      }
      String reason = describe(ar.cause());
      boolean retry = !(ar.cause() instanceof HyperstackException he) || he.transientFailure();
      if (retry && attempt < DELETE_ATTEMPTS) {
        long delay = Math.min(config.pollIntervalMs() << (attempt - 1), 300_000);
        log.warn("Replica {}: deleting VM {} failed ({}); trying again in {} ms", replicaId, vmId, reason, delay);
        vertx.setTimer(delay, id -> deleteVm(replicaId, vmId, attempt + 1, why));
        return;
      }
      String error = "Could not delete VM " + vmId + " on Hyperstack: " + reason
          + ". Delete it in the Hyperstack console, or it keeps billing.";
      log.error("Replica {}: {}", replicaId, error);
      publish(event(replicaId, null, FAILED, error, vmId, null).put("error", error));
    });
  }

  // ---- following PENDING replicas

  private Future<Void> resume() {
    return store.replicasWithStatus(ReplicaRow.PENDING).map(pending -> {
      int added = 0;
      for (ReplicaRow row : pending) {
        if (!jobs.containsKey(row.id())) {
          jobs.put(row.id(), new Job(row.id(), true));
          added++;
        }
      }
      resumed = true;
      if (added > 0) {
        log.info("Following {} replica(s) being provisioned on Hyperstack", added);
      }
      return null;
    });
  }

  private void tick() {
    if (!resumed) {
      resume().onFailure(err -> log.debug("Could not load the replicas being provisioned: {}", err.getMessage()));
    }
    for (Job job : new ArrayList<>(jobs.values())) {
      if (!job.busy) {
        run(job);
      }
    }
  }

  private void run(Job job) {
    job.busy = true;
    Future<Void> step;
    try {
      step = step(job);
    } catch (RuntimeException e) {
      step = Future.failedFuture(e);
    }
    step.onComplete(ar -> {
      job.busy = false;
      if (ar.failed()) {
        // Database or API trouble: the next tick tries again; deadlines still apply.
        log.warn("Provisioning replica {}: {}", job.replicaId, describe(ar.cause()));
      }
    });
  }

  private Future<Void> step(Job job) {
    return store.replicaById(job.replicaId).compose(found -> {
      if (job.stopped) {
        return done();
      }
      if (found.isEmpty()) {
        forget(job);
        log.info("Replica {} was deleted; no longer following it", job.replicaId);
        return done();
      }
      ReplicaRow row = found.get();
      if (!ReplicaRow.PENDING.equals(row.vmStatus())) {
        forget(job);
        return done();
      }
      if (job.vmId == null) {
        job.vmId = row.vmId();
      }
      return modelName(job, row).compose(model -> job.vmId == null ? ensureVm(job, row, model) : follow(job, row, model));
    });
  }

  private Future<String> modelName(Job job, ReplicaRow row) {
    if (job.modelName != null) {
      return Future.succeededFuture(job.modelName);
    }
    return store.modelById(row.modelId()).map(m -> {
      job.modelName = m.map(ModelRow::name).orElse(null);
      return job.modelName;
    });
  }

  /** No VM id stored: adopt the VM an earlier attempt may have created, else create one. */
  private Future<Void> ensureVm(Job job, ReplicaRow row, String model) {
    Instant now = Instant.now();
    if (now.isAfter(row.createdAt().plusMillis(config.vmTimeoutMs()))) {
      return fail(job, row, "No VM could be created within " + duration(config.vmTimeoutMs())
          + (job.lastError == null ? "" : " (last error: " + job.lastError + ")"));
    }
    if (!job.resumed && !job.createUnknown) {
      return create(job, row, model);
    }
    if (job.resumed && !job.createUnknown && now.isBefore(row.createdAt().plusMillis(2 * config.requestTimeoutMs()))) {
      // Another gateway instance may be in the middle of the create call for this replica: let it finish.
      return done();
    }
    return adoptByName(job, row).compose(adopted -> adopted ? done() : create(job, row, model));
  }

  private Future<Boolean> adoptByName(Job job, ReplicaRow row) {
    return hyperstack.findVmsByName(row.name()).compose(vms -> {
      if (vms.isEmpty()) {
        return Future.succeededFuture(false);
      }
      return store.replicas().compose(all -> {
        Set<Long> claimed = new HashSet<>();
        for (ReplicaRow r : all) {
          if (r.vmId() != null && r.id() != row.id()) {
            claimed.add(r.vmId());
          }
        }
        List<Vm> free = vms.stream().filter(vm -> !claimed.contains(vm.id()))
            .sorted(Comparator.comparingLong(Vm::id).reversed()).toList();
        if (free.isEmpty() || job.stopped) {
          return Future.succeededFuture(false);
        }
        Vm vm = free.get(0);
        if (free.size() > 1) {
          log.warn("Replica {}: {} VMs are named '{}' and belong to no replica; following the newest, {}",
              row.id(), free.size(), row.name(), vm.id());
        }
        job.createUnknown = false;
        job.vmId = vm.id();
        return store.updateProvisioning(row.id(), ReplicaRow.PENDING, vm.id(), null, null).map(updated -> {
          String how = job.resumed ? "created before the gateway restarted" : "created by a call whose answer was lost";
          log.info("Replica {}: found its VM {} ('{}') on Hyperstack, {}", row.id(), vm.id(), vm.name(), how);
          publish(job, row, CREATING_VM, "Found VM " + vm.id() + ", " + how + "; status " + vm.status(), vm.status());
          return true;
        });
      });
    });
  }

  private Future<Void> create(Job job, ReplicaRow row, String model) {
    return store.securityRules(row.id()).compose(rules -> {
      if (job.stopped) {
        return done();
      }
      VmSpec spec = new VmSpec(row.name(), row.environmentName(), row.imageName(), row.flavorName(), row.keyName(),
          usesFloatingIp(row), wantedRules(row, rules),
          CloudInit.render(row.runCommand(), "Replica " + row.id() + (model == null ? "" : " of " + model)
              + ", created by the inference gateway", row.apiKey()));
      publish(job, row, CREATING_VM, "Creating VM '" + row.name() + "' (" + row.flavorName() + " in "
          + row.environmentName() + ")", null);
      job.createInFlight = true;
      job.createUnknown = true;
      return hyperstack.createVm(spec).transform(ar -> {
        job.createInFlight = false;
        if (ar.failed()) {
          if (ar.cause() instanceof HyperstackException he && !he.transientFailure()) {
            job.createUnknown = false;
            return job.stopped ? done() : fail(job, row, "Hyperstack refused to create the VM: " + he.getMessage());
          }
          job.lastError = describe(ar.cause());
          if (!job.stopped) {
            publish(job, row, CREATING_VM, "Creating the VM failed (" + job.lastError + "); trying again", null);
          }
          return done();
        }
        Vm vm = ar.result();
        job.createUnknown = false;
        job.vmId = vm.id();
        if (job.stopped) {
          deleteVm(row.id(), vm.id(), 1, "The replica was deleted while its VM was being created");
          return done();
        }
        return store.updateProvisioning(row.id(), ReplicaRow.PENDING, vm.id(), null, null).compose(updated -> {
          if (!updated) {
            forget(job);
            deleteVm(row.id(), vm.id(), 1, "The replica was deleted while its VM was being created");
            return done();
          }
          log.info("Replica {}: created VM {} ('{}'), status {}", row.id(), vm.id(), vm.name(), vm.status());
          if (vm.error()) {
            return fail(job, row, errorState(vm));
          }
          publish(job, row, CREATING_VM, "VM " + vm.id() + " created; Hyperstack status " + vm.status(), vm.status());
          return done();
        });
      });
    });
  }

  /** The VM exists: wait for ACTIVE, then for its IP, then for vLLM. */
  private Future<Void> follow(Job job, ReplicaRow row, String model) {
    long vmId = job.vmId;
    return hyperstack.getVm(vmId).transform(ar -> {
      if (job.stopped) {
        return done();
      }
      Instant now = Instant.now();
      if (ar.failed()) {
        if (ar.cause() instanceof HyperstackException he && he.notFound()) {
          return fail(job, row, "VM " + vmId + " no longer exists on Hyperstack");
        }
        job.lastError = describe(ar.cause());
        return job.activeSince == null
            ? vmDeadline(job, row, now, "VM " + vmId + " was not ready within " + duration(config.vmTimeoutMs())
                + " (last error: " + job.lastError + ")")
            : healthDeadline(job, row, now, "the Hyperstack API did not answer (" + job.lastError + ")");
      }
      Vm vm = ar.result();
      if (vm.error()) {
        return fail(job, row, errorState(vm));
      }
      if (!vm.active()) {
        job.sawNotReady = true;
        publish(job, row, CREATING_VM, "VM " + vmId + " is " + vm.status(), vm.status());
        return vmDeadline(job, row, now, "VM " + vmId + " was still " + vm.status() + " after "
            + duration(config.vmTimeoutMs()));
      }
      boolean floating = usesFloatingIp(row);
      String ip = floating ? vm.floatingIp() : vm.fixedIp();
      if (ip == null) {
        job.sawNotReady = true;
        publish(job, row, WAITING_FOR_IP, "VM " + vmId + " is ACTIVE; waiting for its " + (floating ? "floating" : "fixed")
            + " IP", vm.status());
        return vmDeadline(job, row, now, "VM " + vmId + " is ACTIVE but got no " + (floating ? "floating" : "fixed")
            + " IP within " + duration(config.vmTimeoutMs()));
      }
      Future<Void> marked = Future.succeededFuture();
      if (job.activeSince == null) {
        if (job.sawNotReady) {
          // This gateway saw the VM become ready: remember when, in updated_at, for a restart.
          job.activeSince = now;
          marked = store.updateProvisioning(row.id(), ReplicaRow.PENDING, vmId, null, null).mapEmpty();
        } else {
          // Ready at first sight (after a restart, or a fast VM): the last milestone stored is the best estimate.
          job.activeSince = row.updatedAt() != null ? row.updatedAt() : row.createdAt();
        }
      }
      String endpoint = endpoint(ip, row.port());
      return marked.compose(v -> ensureRules(job, row, vm)).compose(v -> {
        publish(job, row, WAITING_FOR_VLLM, "VM " + vmId + " is ACTIVE at " + ip + "; waiting for vLLM on "
            + endpoint + "/health", vm.status());
        return probe.ready(UpstreamTarget.parse(endpoint).withApiKey(row.apiKey()), model).transform(probed -> {
          if (job.stopped) {
            return done();
          }
          if (probed.succeeded()) {
            return succeed(job, row, vm, endpoint);
          }
          if (probed.cause() instanceof VllmProbe.NotReady notReady && notReady.wrongModel()) {
            // vLLM lists models only once loaded: another model will not turn into this one by waiting.
            return fail(job, row, "vLLM at " + endpoint + " " + notReady.getMessage()
                + " (check --model or --served-model-name in the run command)");
          }
          job.lastError = describe(probed.cause());
          return healthDeadline(job, row, Instant.now(), "vLLM did not become ready at " + endpoint + " within "
              + duration(config.healthTimeoutMs()) + " of the VM becoming ACTIVE (last check: " + job.lastError + ")");
        });
      });
    });
  }

  private Future<Void> vmDeadline(Job job, ReplicaRow row, Instant now, String reason) {
    return now.isAfter(row.createdAt().plusMillis(config.vmTimeoutMs())) ? fail(job, row, reason) : done();
  }

  private Future<Void> healthDeadline(Job job, ReplicaRow row, Instant now, String reason) {
    return now.isAfter(job.activeSince.plusMillis(config.healthTimeoutMs())) ? fail(job, row, reason) : done();
  }

  /**
   * Adds the wanted firewall rules the VM does not have yet ({@code POST .../sg-rules}); they were sent with the
   * create call, this covers a VM that came up without some of them. Once per job; transient failures retry.
   */
  private Future<Void> ensureRules(Job job, ReplicaRow row, Vm vm) {
    if (job.rulesChecked || vm.securityRules() == null) {
      return done();
    }
    return store.securityRules(row.id()).compose(rows -> {
      List<SecurityRule> missing = new ArrayList<>();
      for (SecurityRule wanted : wantedRules(row, rows)) {
        if (vm.securityRules().stream().noneMatch(wanted::sameAs)) {
          missing.add(wanted);
        }
      }
      Future<Boolean> chain = Future.succeededFuture(true);
      for (SecurityRule rule : missing) {
        chain = chain.compose(allDone -> hyperstack.addSecurityRule(vm.id(), rule).map(allDone).recover(err -> {
          log.warn("Replica {}: could not add firewall rule {} to VM {}: {}", row.id(), rule.toJson().encode(),
              vm.id(), describe(err));
          boolean retryable = !(err instanceof HyperstackException he) || he.transientFailure();
          return Future.succeededFuture(allDone && !retryable);
        }));
      }
      return chain.map(allDone -> {
        if (!missing.isEmpty()) {
          log.info("Replica {}: added {} missing firewall rule(s) to VM {}", row.id(), missing.size(), vm.id());
        }
        job.rulesChecked = allDone;
        return null;
      });
    });
  }

  private Future<Void> succeed(Job job, ReplicaRow row, Vm vm, String endpoint) {
    forget(job);
    return store.updateProvisioning(row.id(), ReplicaRow.SUCCESS, vm.id(), endpoint, null).compose(updated -> {
      if (!updated) {
        return done();
      }
      log.info("Replica {} ({}) is ready at {} on VM {}", row.id(), job.modelName, endpoint, vm.id());
      // routable here before the ready event goes out
      return announcements.publish(Addresses.MODELS_CHANGED, new JsonObject().put("model_id", row.modelId()))
          .transform(reloaded -> {
            if (reloaded.failed()) {
              log.warn("Replica {}: could not reload the models: {}", row.id(), describe(reloaded.cause()));
            }
            publish(event(row.id(), row.modelId(), READY, "vLLM is ready at " + endpoint, vm.id(), vm.status())
                .put("endpoint", endpoint));
            return done();
          });
    });
  }

  private Future<Void> fail(Job job, ReplicaRow row, String reason) {
    forget(job);
    String error = job.vmId == null ? reason : reason + ". VM " + job.vmId + " is left on Hyperstack (it may be"
        + " billing): delete the replica with delete_vm=true to remove it.";
    return store.updateProvisioning(row.id(), ReplicaRow.FAILED, job.vmId, null, error).map(updated -> {
      if (updated) {
        log.warn("Replica {} ({}) failed: {}", row.id(), job.modelName, error);
        publish(event(row.id(), row.modelId(), FAILED, reason, job.vmId, null).put("error", error));
        announcements.publish(Addresses.MODELS_CHANGED, new JsonObject().put("model_id", row.modelId()));
      }
      return null;
    });
  }

  private void forget(Job job) {
    job.stopped = true;
    jobs.remove(job.replicaId, job);
  }

  // ---- vLLM readiness

  // ---- helpers

  /**
   * The rules the VM gets: those recorded for the replica, plus, when none covers them, the vLLM port open to the
   * gateway ({@code hyperstack.gatewayCidr}) and SSH (port 22) from anywhere, as the toolkit did.
   */
  private List<SecurityRule> wantedRules(ReplicaRow row, List<SecurityRuleRow> recorded) {
    List<SecurityRule> rules = new ArrayList<>();
    for (SecurityRuleRow r : recorded) {
      SecurityRule rule = SecurityRule.of(r);
      if (rules.stream().noneMatch(rule::sameAs)) {
        rules.add(rule);
      }
    }
    int port = vllmPort(row);
    if (rules.stream().noneMatch(r -> r.opensTcp(port, config.gatewayCidr()))) {
      rules.add(SecurityRule.ingressTcp(config.gatewayCidr(), port));
    }
    boolean ssh = rules.stream().anyMatch(r -> "ingress".equalsIgnoreCase(r.direction())
        && "tcp".equalsIgnoreCase(r.protocol()) && (r.portRangeMin() == null || r.portRangeMin() <= 22)
        && (r.portRangeMax() == null || r.portRangeMax() >= 22));
    if (!ssh && config.sshCidr() != null) {
      // SSH only from hyperstack.sshCidr; without it, only the rules the replica was created with (never 0.0.0.0/0
      // added silently)
      rules.add(SecurityRule.ingressTcp(config.sshCidr(), 22));
    }
    return rules;
  }

  private static int vllmPort(ReplicaRow row) {
    return row.port() == null ? DEFAULT_VLLM_PORT : row.port();
  }

  private static boolean usesFloatingIp(ReplicaRow row) {
    return !Boolean.FALSE.equals(row.assignFloatingIp());
  }

  static String endpoint(String ip, Integer port) {
    String host = ip.contains(":") && !ip.startsWith("[") ? "[" + ip + "]" : ip;
    return "http://" + host + ":" + (port == null ? DEFAULT_VLLM_PORT : port);
  }

  private static String errorState(Vm vm) {
    return "Hyperstack reports VM " + vm.id() + (vm.name() == null ? "" : " ('" + vm.name() + "')") + " in ERROR state";
  }

  private void publish(Job job, ReplicaRow row, String phase, String message, String vmStatus) {
    String key = phase + '\u0000' + message + '\u0000' + vmStatus;
    if (job.stopped || key.equals(job.published)) {
      return;
    }
    job.published = key;
    publish(event(row.id(), row.modelId(), phase, message, job.vmId, vmStatus));
  }

  private void publish(JsonObject event) {
    vertx.eventBus().publish(Addresses.REPLICAS_PROVISIONING, event);
  }

  static JsonObject event(long replicaId, Long modelId, String phase, String message, Long vmId, String vmStatus) {
    JsonObject e = new JsonObject().put("replica_id", replicaId);
    if (modelId != null) {
      e.put("model_id", modelId);
    }
    return e.put("phase", phase).put("message", message).put("vm_id", vmId).put("vm_status", vmStatus)
        .put("at", Instant.now().toString());
  }

  static String duration(long ms) {
    if (ms % 60_000 == 0) {
      return ms / 60_000 + " min";
    }
    return ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms";
  }

  private static String describe(Throwable err) {
    if (err == null) {
      return "unknown error";
    }
    String m = err.getMessage();
    return m == null || m.isBlank() ? err.getClass().getSimpleName() : m;
  }

  private static Future<Void> done() {
    return Future.succeededFuture();
  }

  @Override
  public String toString() {
    return "ProvisioningVerticle[" + config + ", following=" + jobs.size() + "]";
  }
}
