package io.inferencegateway.store;

import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** SQL for {@code llm_models}, {@code replicas} and {@code replica_security_rules}. */
public final class ModelStore {

  private static final String REPLICA_COLUMNS = "id, model_id, endpoint, rate_limit, weight, flavor_name, vm_status, name,"
      + " environment_name, image_name, assign_floating_ip, run_command, key_name, vm_id, port, error_message,"
      + " created_at, updated_at, api_key_enc";

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ModelStore.class);

  private final Database db;
  private final SecretBox secrets;

  /** Without a secret box: replicas with an API key can be neither stored nor read with their key. */
  public ModelStore(Database db) {
    this(db, null);
  }

  /** Replica API keys are sealed with {@code secrets} on the way in and opened on the way out. */
  public ModelStore(Database db, SecretBox secrets) {
    this.db = db;
    this.secrets = secrets;
  }

  /** The box that seals secrets at rest (null in stores built without one). */
  public SecretBox secrets() {
    return secrets;
  }

  // ---- models

  public Future<ModelRow> insertModel(String name) {
    Instant now = Instant.now();
    return db.pool().preparedQuery("INSERT INTO llm_models (name, created_at) VALUES (?, ?)")
        .execute(Tuple.of(name, SqlValues.toDb(now)))
        .map(rows -> new ModelRow(db.dialect().generatedId(rows), name, null, now));
  }

  public Future<List<ModelRow>> models() {
    return db.pool().query("SELECT id, name, routing_strategy, created_at FROM llm_models ORDER BY id").execute()
        .map(ModelStore::models);
  }

  public Future<Optional<ModelRow>> modelByName(String name) {
    return db.pool().preparedQuery("SELECT id, name, routing_strategy, created_at FROM llm_models WHERE name = ?")
        .execute(Tuple.of(name)).map(rows -> models(rows).stream().findFirst());
  }

  public Future<Optional<ModelRow>> modelById(long id) {
    return db.pool().preparedQuery("SELECT id, name, routing_strategy, created_at FROM llm_models WHERE id = ?")
        .execute(Tuple.of(id)).map(rows -> models(rows).stream().findFirst());
  }

  /** Deletes the model with its replicas and their security rules, in one transaction. */
  public Future<Boolean> deleteModel(long id) {
    return db.inTransaction(conn -> conn
        .preparedQuery("DELETE FROM replica_security_rules WHERE replica_id IN (SELECT id FROM replicas WHERE model_id = ?)")
        .execute(Tuple.of(id))
        .compose(v -> conn.preparedQuery("DELETE FROM replicas WHERE model_id = ?").execute(Tuple.of(id)))
        .compose(v -> conn.preparedQuery("DELETE FROM llm_models WHERE id = ?").execute(Tuple.of(id)))
        .map(rows -> rows.rowCount() > 0));
  }

  // ---- replicas

  /** A replica to insert; {@code apiKey} (plaintext, may be null) is stored sealed. */
  public record NewReplica(long modelId, String endpoint, Integer rateLimit, Integer weight, String vmStatus,
                           String name, String flavorName, String environmentName, String imageName,
                           Boolean assignFloatingIp, String runCommand, String keyName, Integer port, String apiKey) {

    public NewReplica(long modelId, String endpoint, Integer rateLimit, Integer weight, String vmStatus,
                      String name, String flavorName, String environmentName, String imageName,
                      Boolean assignFloatingIp, String runCommand, String keyName, Integer port) {
      this(modelId, endpoint, rateLimit, weight, vmStatus, name, flavorName, environmentName, imageName,
          assignFloatingIp, runCommand, keyName, port, null);
    }

    public static NewReplica byEndpoint(long modelId, String endpoint, Integer rateLimit) {
      return byEndpoint(modelId, endpoint, rateLimit, null);
    }

    public static NewReplica byEndpoint(long modelId, String endpoint, Integer rateLimit, String apiKey) {
      return new NewReplica(modelId, endpoint, rateLimit, null, ReplicaRow.SUCCESS, null, null, null, null, null, null,
          null, null, apiKey);
    }

    @Override
    public String toString() {
      return "NewReplica[modelId=" + modelId + ", endpoint=" + endpoint + ", name=" + name + ", apiKey="
          + (apiKey == null ? "unset" : "set") + "]";
    }
  }

  public Future<Long> insertReplica(NewReplica r, List<SecurityRuleRow> rules) {
    Instant now = Instant.now();
    String sealedKey;
    try {
      sealedKey = seal(r.apiKey());
    } catch (IllegalStateException e) {
      return Future.failedFuture(e);
    }
    return db.inTransaction(conn -> conn.preparedQuery("INSERT INTO replicas (model_id, endpoint, rate_limit, weight,"
                + " flavor_name, vm_status, name, environment_name, image_name, assign_floating_ip, run_command, key_name,"
                + " port, created_at, updated_at, api_key_enc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .execute(Tuple.from(new Object[] {r.modelId(), r.endpoint(), r.rateLimit(), r.weight(), r.flavorName(),
            r.vmStatus(), r.name(), r.environmentName(), r.imageName(), r.assignFloatingIp(), r.runCommand(), r.keyName(),
            r.port(), SqlValues.toDb(now), SqlValues.toDb(now), sealedKey}))
        .map(rows -> db.dialect().generatedId(rows))
        .compose(id -> insertRules(conn, id, rules).map(id)));
  }

  private Future<Void> insertRules(SqlConnection conn, long replicaId, List<SecurityRuleRow> rules) {
    if (rules == null || rules.isEmpty()) {
      return Future.succeededFuture();
    }
    List<Tuple> batch = new ArrayList<>();
    for (SecurityRuleRow rule : rules) {
      batch.add(Tuple.of(replicaId, rule.direction(), rule.protocol(), rule.ethertype(), rule.remoteIpPrefix(),
          rule.portRangeMin(), rule.portRangeMax()));
    }
    return conn.preparedQuery("INSERT INTO replica_security_rules (replica_id, direction, protocol, ethertype,"
        + " remote_ip_prefix, port_range_min, port_range_max) VALUES (?, ?, ?, ?, ?, ?, ?)").executeBatch(batch).mapEmpty();
  }

  public Future<List<ReplicaRow>> replicas() {
    return db.pool().query("SELECT " + REPLICA_COLUMNS + " FROM replicas ORDER BY id").execute().map(this::replicas);
  }

  public Future<List<ReplicaRow>> replicasOf(long modelId) {
    return db.pool().preparedQuery("SELECT " + REPLICA_COLUMNS + " FROM replicas WHERE model_id = ? ORDER BY id")
        .execute(Tuple.of(modelId)).map(this::replicas);
  }

  public Future<Optional<ReplicaRow>> replicaById(long id) {
    return db.pool().preparedQuery("SELECT " + REPLICA_COLUMNS + " FROM replicas WHERE id = ?")
        .execute(Tuple.of(id)).map(rows -> replicas(rows).stream().findFirst());
  }

  public Future<List<ReplicaRow>> replicasWithStatus(String vmStatus) {
    return db.pool().preparedQuery("SELECT " + REPLICA_COLUMNS + " FROM replicas WHERE vm_status = ? ORDER BY id")
        .execute(Tuple.of(vmStatus)).map(this::replicas);
  }

  /** Whether the model already has a replica at this endpoint (as the toolkit, uniqueness is per model). */
  public Future<Boolean> endpointExists(long modelId, String endpoint) {
    return db.pool().preparedQuery("SELECT 1 FROM replicas WHERE model_id = ? AND endpoint = ? LIMIT 1")
        .execute(Tuple.of(modelId, endpoint))
        .map(rows -> rows.size() > 0);
  }

  /** Sets (or with null clears) the replica's API key. */
  public Future<Boolean> updateApiKey(long replicaId, String apiKey) {
    String sealed;
    try {
      sealed = seal(apiKey);
    } catch (IllegalStateException e) {
      return Future.failedFuture(e);
    }
    return db.pool().preparedQuery("UPDATE replicas SET api_key_enc = ?, updated_at = ? WHERE id = ?")
        .execute(Tuple.of(sealed, SqlValues.toDb(Instant.now()), replicaId)).map(rows -> rows.rowCount() > 0);
  }

  /**
   * Re-seals every replica key that an earlier key sealed (after a rotation: {@code SECRETS_KEY} new,
   * {@code SECRETS_KEY_PREVIOUS} old) with the current key; the number of keys re-sealed.
   */
  public Future<Integer> reseal() {
    if (secrets == null) {
      return Future.succeededFuture(0);
    }
    return db.pool().query("SELECT id, api_key_enc FROM replicas WHERE api_key_enc IS NOT NULL").execute()
        .compose(rows -> {
          List<Tuple> updates = new ArrayList<>();
          for (Row r : rows) {
            String sealed = r.getString("api_key_enc");
            if (!secrets.sealedWithCurrentKey(sealed)) {
              try {
                updates.add(Tuple.of(secrets.seal(secrets.open(sealed)), r.getLong("id")));
              } catch (IllegalStateException e) {
                log.error("Replica {}: its API key cannot be re-encrypted: {}", r.getLong("id"), e.getMessage());
              }
            }
          }
          if (updates.isEmpty()) {
            return Future.succeededFuture(0);
          }
          return db.pool().preparedQuery("UPDATE replicas SET api_key_enc = ? WHERE id = ?").executeBatch(updates)
              .map(updates.size());
        });
  }

  private String seal(String apiKey) {
    if (apiKey == null) {
      return null;
    }
    if (secrets == null) {
      throw new IllegalStateException("no secrets key: a replica API key cannot be stored");
    }
    return secrets.seal(apiKey);
  }

  private String open(long replicaId, String sealed) {
    if (sealed == null) {
      return null;
    }
    if (secrets == null) {
      return null;
    }
    try {
      return secrets.open(sealed);
    } catch (IllegalStateException e) {
      // the replica then gets no key and answers 401: logged, and named in its health error
      log.error("Replica {}: its API key cannot be decrypted ({}); set SECRETS_KEY (and SECRETS_KEY_PREVIOUS after a"
          + " rotation) to the keys it was stored with", replicaId, e.getMessage());
      return null;
    }
  }

  public Future<Boolean> updateRateLimit(long replicaId, Integer rateLimit) {
    return db.pool().preparedQuery("UPDATE replicas SET rate_limit = ?, updated_at = ? WHERE id = ?")
        .execute(Tuple.of(rateLimit, SqlValues.toDb(Instant.now()), replicaId)).map(rows -> rows.rowCount() > 0);
  }

  /** Records provisioning progress: the VM id once known, then the endpoint and SUCCESS, or FAILED with a reason. */
  public Future<Boolean> updateProvisioning(long replicaId, String vmStatus, Long vmId, String endpoint, String error) {
    return db.pool().preparedQuery("UPDATE replicas SET vm_status = ?, vm_id = COALESCE(?, vm_id),"
            + " endpoint = COALESCE(?, endpoint), error_message = ?, updated_at = ? WHERE id = ?")
        .execute(Tuple.from(new Object[] {vmStatus, vmId, endpoint, error, SqlValues.toDb(Instant.now()), replicaId}))
        .map(rows -> rows.rowCount() > 0);
  }

  /** Deletes the replica and its security rules, in one transaction. */
  public Future<Boolean> deleteReplica(long id) {
    return db.inTransaction(conn -> conn
        .preparedQuery("DELETE FROM replica_security_rules WHERE replica_id = ?").execute(Tuple.of(id))
        .compose(v -> conn.preparedQuery("DELETE FROM replicas WHERE id = ?").execute(Tuple.of(id)))
        .map(rows -> rows.rowCount() > 0));
  }

  private static final String RULE_COLUMNS = "id, replica_id, direction, protocol, ethertype, remote_ip_prefix,"
      + " port_range_min, port_range_max";

  public Future<List<SecurityRuleRow>> securityRules(long replicaId) {
    return db.pool().preparedQuery("SELECT " + RULE_COLUMNS + " FROM replica_security_rules WHERE replica_id = ? ORDER BY id")
        .execute(Tuple.of(replicaId))
        .map(ModelStore::rules);
  }

  /** The security rules of every replica of a model, in one query. */
  public Future<List<SecurityRuleRow>> securityRulesOfModel(long modelId) {
    return db.pool().preparedQuery("SELECT " + RULE_COLUMNS + " FROM replica_security_rules"
            + " WHERE replica_id IN (SELECT id FROM replicas WHERE model_id = ?) ORDER BY id")
        .execute(Tuple.of(modelId))
        .map(ModelStore::rules);
  }

  private static List<SecurityRuleRow> rules(RowSet<Row> rows) {
    List<SecurityRuleRow> out = new ArrayList<>(rows.size());
    for (Row r : rows) {
      out.add(new SecurityRuleRow(r.getLong("id"), r.getLong("replica_id"), r.getString("direction"),
          r.getString("protocol"), r.getString("ethertype"), r.getString("remote_ip_prefix"),
          r.getInteger("port_range_min"), r.getInteger("port_range_max")));
    }
    return out;
  }

  private static List<ModelRow> models(RowSet<Row> rows) {
    List<ModelRow> out = new ArrayList<>(rows.size());
    for (Row r : rows) {
      out.add(new ModelRow(r.getLong("id"), r.getString("name"), r.getString("routing_strategy"),
          SqlValues.instant(r, "created_at")));
    }
    return out;
  }

  private List<ReplicaRow> replicas(RowSet<Row> rows) {
    List<ReplicaRow> out = new ArrayList<>(rows.size());
    for (Row r : rows) {
      out.add(new ReplicaRow(r.getLong("id"), r.getLong("model_id"), r.getString("endpoint"),
          SqlValues.nullableInt(r, "rate_limit"), SqlValues.nullableInt(r, "weight"), r.getString("flavor_name"),
          r.getString("vm_status"), r.getString("name"), r.getString("environment_name"), r.getString("image_name"),
          SqlValues.nullableBool(r, "assign_floating_ip"), r.getString("run_command"), r.getString("key_name"),
          SqlValues.nullableLong(r, "vm_id"), SqlValues.nullableInt(r, "port"), r.getString("error_message"),
          SqlValues.instant(r, "created_at"), SqlValues.instant(r, "updated_at"),
          open(r.getLong("id"), r.getString("api_key_enc"))));
    }
    return out;
  }
}
