package io.inferencegateway.cluster;

import io.vertx.core.Deployable;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.shareddata.Lock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.List;
import java.util.function.Supplier;

/**
 * Runs the jobs that must run once per cluster (provisioning follow-up, backups, usage retention) on one member: the
 * holder of the cluster manager's lock {@value HazelcastCluster#LEADER_LOCK}. Every member waits on the lock, each
 * wait lasting {@code retryMs} before it starts again; the one that gets it deploys the jobs (fresh instances, which
 * pick up their state from the database) and keeps the lock until it stops or dies. When the leader's process dies,
 * Hazelcast drops it from the cluster (at once when its connections close, after 15 s of silence when it freezes),
 * frees the lock, and a waiting member takes over.
 *
 * <p>Nothing fences the lock: a leader frozen long enough to be dropped may, when it wakes, still run a job next to its
 * successor. The jobs tolerate that (backups write unique files, the roll-up is idempotent, provisioning steps re-read
 * the database).
 */
public final class LeaderVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(LeaderVerticle.class);

  private final HazelcastCluster cluster;
  private final long retryMs;
  private final List<Supplier<? extends Deployable>> jobs;
  private Lock lock;
  private boolean stopping;

  public LeaderVerticle(HazelcastCluster cluster, long retryMs, List<Supplier<? extends Deployable>> jobs) {
    this.cluster = cluster;
    this.retryMs = retryMs;
    this.jobs = List.copyOf(jobs);
  }

  @Override
  public Future<?> start() {
    campaign();
    return Future.succeededFuture();
  }

  private void campaign() {
    if (stopping) {
      return;
    }
    long started = System.nanoTime();
    vertx.sharedData().getLockWithTimeout(HazelcastCluster.LEADER_LOCK, retryMs).onComplete(ar -> {
      if (ar.failed()) {
        long waitedMs = (System.nanoTime() - started) / 1_000_000;
        // a timeout means another member leads: ask again at once; a quick failure (e.g. an operation timeout while
        // the cluster changes) waits a little, so it cannot spin
        vertx.setTimer(waitedMs >= retryMs / 2 ? 1 : Math.min(1000, retryMs), id -> campaign());
        return;
      }
      if (stopping) {
        ar.result().release();
        return;
      }
      lock = ar.result();
      lead();
    });
  }

  private void lead() {
    cluster.leader(true);
    String since = Instant.now().toString();
    log.info("This instance ({}) is now the cluster leader: it runs the provisioning follow-up, backups and usage"
        + " retention", cluster.self());
    cluster.recordLeader(since).onFailure(err -> log.warn("Could not record the leader: {}", err.getMessage()));
    Future<?> chain = Future.succeededFuture();
    for (Supplier<? extends Deployable> job : jobs) {
      // deployed from this verticle's context: undeployed with it
      chain = chain.compose(v -> vertx.deployVerticle(job.get())
          .onFailure(err -> log.error("A leader job failed to start: {}", err.getMessage()))
          .recover(err -> Future.succeededFuture()));
    }
  }

  @Override
  public Future<?> stop() {
    stopping = true;
    cluster.leader(false);
    if (lock != null) {
      lock.release();
    }
    return Future.succeededFuture();
  }
}
