package io.inferencegateway.routing;

import io.inferencegateway.config.GatewayConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.IntUnaryOperator;

/**
 * Chooses the replica for each attempt of a request: among replicas that are healthy, not excluded (already tried),
 * whose breaker lets traffic through and that are under their own requests-per-minute limit, prefix affinity first
 * (when on and not overloaded), else the model's strategy. Reads only the in-memory snapshot.
 *
 * <p>Affinity: a request whose affinity key (its conversation: the messages up to the first user message, or a
 * session) was seen before goes to the replica that key went to last, whose prefix cache holds the conversation so far,
 * unless that replica is clearly busier than the least loaded one ({@link #LOAD_FACTOR} times its score plus
 * {@link #SLACK}); a new key, or one whose replica is too busy, goes to the least loaded replica, which then becomes the
 * key's replica. Keys are remembered per model in a bounded table ({@link #TABLE_CAPACITY}, least recently used
 * forgotten first).
 *
 * <p>In cluster mode ({@code rendezvous}), a key this instance has not placed yet (or whose replica is gone) goes to
 * its rendezvous replica ({@link Rendezvous}: the highest random weight of key and replica id), unless that one is
 * clearly busier than the least loaded: every instance computes the same replica without sharing any state, so one
 * conversation sent through several gateway instances lands on one replica.
 *
 * <p>With fair admission's in-flight cap per replica ({@code inFlightCap}), a replica at the cap is passed over while
 * another is below it, whatever the scores say: a request sent there would wait in that vLLM's queue for a batch slot
 * while another replica has one free (the admission gate lets a request in when a slot frees somewhere, not there).
 * A request of a key that holds its fair share (fair admission's reserve, {@code keepFree}) is placed, where it can be,
 * so that every replica keeps that many slots free for other keys: their requests then choose among all replicas.
 * With the cap, a request without a cached prefix anywhere (a new affinity key, or none) also passes over replicas
 * computing a streamed prompt while another computes none: its own prompt would share their steps and wait for them.
 */
public final class ReplicaRouter {

  private static final IntUnaryOperator RANDOM = bound -> ThreadLocalRandom.current().nextInt(bound);

  /** The key's replica may carry this many times the least loaded replica's score, plus {@link #SLACK}. */
  static final double LOAD_FACTOR = 1.25;
  static final double SLACK = 2;
  static final int TABLE_CAPACITY = 100_000;

  private final GatewayConfig.Router settings;
  private final ConcurrentHashMap<String, AffinityTable> tables = new ConcurrentHashMap<>();
  private final boolean rendezvous;
  private final int inFlightCap;

  public ReplicaRouter(GatewayConfig.Router settings) {
    this(settings, false);
  }

  /** @param rendezvous place new affinity keys by rendezvous hashing (cluster mode: instances agree) */
  public ReplicaRouter(GatewayConfig.Router settings, boolean rendezvous) {
    this(settings, rendezvous, 0);
  }

  /** @param inFlightCap fair admission's in-flight cap per replica (0: none) */
  public ReplicaRouter(GatewayConfig.Router settings, boolean rendezvous, int inFlightCap) {
    this.settings = settings;
    this.rendezvous = rendezvous;
    this.inFlightCap = inFlightCap;
  }

  public Choice choose(ModelRoute model, RouteHints hints) {
    return choose(model, hints, 0);
  }

  /** @param keepFree slots each replica should keep under the in-flight cap for other keys (see the class comment) */
  public Choice choose(ModelRoute model, RouteHints hints, int keepFree) {
    return choose(model, hints, keepFree, System.currentTimeMillis(), RANDOM);
  }

  Choice choose(ModelRoute model, RouteHints hints, long nowMs, IntUnaryOperator random) {
    return choose(model, hints, 0, nowMs, random);
  }

  Choice choose(ModelRoute model, RouteHints hints, int keepFree, long nowMs, IntUnaryOperator random) {
    List<ReplicaState> replicas = model.replicas();
    List<ReplicaState> eligible = new ArrayList<>(replicas.size());
    List<ReplicaView> views = new ArrayList<>(replicas.size());
    boolean anyUp = false;
    long soonest = Long.MAX_VALUE;
    for (ReplicaState r : replicas) {
      if (!r.routable() || hints.exclude().contains(r.id()) || !r.breaker().mayAllow(nowMs)) {
        continue;
      }
      anyUp = true;
      long wait = r.rateLimitWaitMs(nowMs);
      if (wait > 0) {
        soonest = Math.min(soonest, wait);
        continue;
      }
      eligible.add(r);
      views.add(r.view(nowMs, settings.loadStaleMs()));
    }
    boolean affinity = model.affinity() && hints.hasAffinity();
    AffinityTable table = affinity ? tables.computeIfAbsent(model.name(), n -> new AffinityTable(TABLE_CAPACITY)) : null;
    if (inFlightCap > 0) {
      // a request with a cached prefix somewhere keeps its affinity; others avoid replicas computing a prompt
      boolean avoidPrefills = keepFree > 0 || !affinity || table.get(hints.affinityHash()) == null;
      int reserved = keepFree > 0 && keepFree < inFlightCap ? inFlightCap - keepFree : inFlightCap;
      if (!(avoidPrefills && passOverFull(eligible, views, reserved, true))
          && !(reserved < inFlightCap && passOverFull(eligible, views, reserved, false))
          && !(avoidPrefills && passOverFull(eligible, views, inFlightCap, true))) {
        passOverFull(eligible, views, inFlightCap, false);
      }
    }
    while (!eligible.isEmpty()) {
      String reason = Choice.STRATEGY;
      int i;
      if (affinity) {
        Long known = table.get(hints.affinityHash());
        int at = known == null ? -1 : indexOf(views, known);
        int least = leastLoaded(views, random);
        int agreed = rendezvous && at < 0 ? Rendezvous.preferredIndex(views, hints.affinityHash()) : -1;
        if (at >= 0 && views.get(at).score() <= LOAD_FACTOR * views.get(least).score() + SLACK) {
          i = at;
          reason = Choice.AFFINITY;
        } else if (agreed >= 0 && views.get(agreed).score() <= LOAD_FACTOR * views.get(least).score() + SLACK) {
          i = agreed;
          reason = known == null ? Choice.NEW_KEY : Choice.REBALANCED;
        } else {
          i = least;
          reason = known == null ? Choice.NEW_KEY : Choice.REBALANCED;
        }
      } else {
        i = model.strategy().pick(views, hints, random);
      }
      ReplicaState chosen = eligible.get(i);
      if (chosen.breaker().tryAcquire(nowMs)) {
        if (chosen.tryTakeRate(nowMs)) {
          if (affinity && !Choice.AFFINITY.equals(reason)) {
            table.put(hints.affinityHash(), chosen.id());
          }
          return Choice.of(chosen, reason);
        }
        chosen.breaker().release();
      }
      // lost a race with another event loop (probe taken, last token taken): choose among the others
      eligible.remove(i);
      views.remove(i);
    }
    return anyUp && soonest != Long.MAX_VALUE ? Choice.busy(soonest) : Choice.NONE;
  }

  /**
   * Drops the replicas with {@code cap} or more in flight (and, if {@code idle}, those computing a streamed prompt),
   * unless every one would go; false (nothing dropped) then.
   */
  private static boolean passOverFull(List<ReplicaState> eligible, List<ReplicaView> views, int cap, boolean idle) {
    boolean anyFree = false;
    for (int i = 0; i < views.size() && !anyFree; i++) {
      anyFree = fits(eligible.get(i), views.get(i), cap, idle);
    }
    if (!anyFree) {
      return false;
    }
    for (int i = views.size() - 1; i >= 0; i--) {
      if (!fits(eligible.get(i), views.get(i), cap, idle)) {
        views.remove(i);
        eligible.remove(i);
      }
    }
    return true;
  }

  private static boolean fits(ReplicaState r, ReplicaView v, int cap, boolean idle) {
    return v.inFlight() < cap && (!idle || r.streamsComputingPrompts() == 0);
  }

  private static int indexOf(List<ReplicaView> views, long replicaId) {
    for (int i = 0; i < views.size(); i++) {
      if (views.get(i).id() == replicaId) {
        return i;
      }
    }
    return -1;
  }

  /**
   * The replica with the lowest placement score (load, and prompts still being computed: see
   * {@link ReplicaView#placementScore}); ties are broken from a random starting point, so no replica is favoured.
   */
  static int leastLoaded(List<ReplicaView> views, IntUnaryOperator random) {
    int n = views.size();
    int start = n == 1 ? 0 : random.applyAsInt(n);
    int best = start;
    double bestScore = views.get(start).placementScore();
    for (int k = 1; k < n; k++) {
      int i = (start + k) % n;
      double s = views.get(i).placementScore();
      if (s < bestScore) {
        best = i;
        bestScore = s;
      }
    }
    return best;
  }

  /** How many affinity keys the router remembers for a model (for tests and the debug log). */
  int rememberedKeys(String model) {
    AffinityTable t = tables.get(model);
    return t == null ? 0 : t.size();
  }
}
