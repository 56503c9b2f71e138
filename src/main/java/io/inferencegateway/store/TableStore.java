package io.inferencegateway.store;

import io.vertx.core.Future;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Raw reads of the toolkit's five tables for {@code GET /api/v1/tables/{name}}: newest rows first, paged.
 * Every table has an explicit column list, so a secret column ({@code api_keys.key_hash}, or any added later) is
 * never selected, let alone returned. Values come back JSON-ready: times as ISO-8601 strings, booleans as booleans
 * (MariaDB answers TINYINT), {@code api_keys.models} as a list.
 */
public final class TableStore {

  /** How a column's value is turned into JSON. */
  public enum Kind { PLAIN, BOOL, JSON }

  public record Column(String name, Kind kind) {
    static Column plain(String name) {
      return new Column(name, Kind.PLAIN);
    }
  }

  /** The toolkit's tables, in the order {@code GET /tables} lists them, with the columns each may show. */
  public static final Map<String, List<Column>> TABLES = tables();

  /** One page of rows, and how many rows the table holds (after the cursor, if one was given). */
  public record Page(List<JsonObject> rows, long total) {}

  private final Database db;

  public TableStore(Database db) {
    this.db = db;
  }

  private static Map<String, List<Column>> tables() {
    Map<String, List<Column>> t = new LinkedHashMap<>();
    t.put("api_keys", List.of(Column.plain("id"), Column.plain("user_id"), Column.plain("key_prefix"),
        Column.plain("allowed_rpm"), Column.plain("allowed_tpm"), new Column("models", Kind.JSON),
        new Column("enabled", Kind.BOOL), Column.plain("expires_at"), Column.plain("created_at"),
        Column.plain("last_used_at"), Column.plain("priority"), Column.plain("max_concurrent_requests"),
        Column.plain("queue_weight")));
    t.put("llm_models", List.of(Column.plain("id"), Column.plain("name"), Column.plain("routing_strategy"),
        Column.plain("created_at")));
    t.put("replicas", List.of(Column.plain("id"), Column.plain("model_id"), Column.plain("endpoint"),
        Column.plain("rate_limit"), Column.plain("weight"), Column.plain("flavor_name"), Column.plain("vm_status"),
        Column.plain("name"), Column.plain("environment_name"), Column.plain("image_name"),
        new Column("assign_floating_ip", Kind.BOOL), Column.plain("run_command"), Column.plain("key_name"),
        Column.plain("vm_id"), Column.plain("port"), Column.plain("error_message"), Column.plain("created_at"),
        Column.plain("updated_at")));
    t.put("replica_security_rules", List.of(Column.plain("id"), Column.plain("replica_id"), Column.plain("direction"),
        Column.plain("protocol"), Column.plain("ethertype"), Column.plain("remote_ip_prefix"),
        Column.plain("port_range_min"), Column.plain("port_range_max")));
    t.put("metrics", List.of(Column.plain("id"), Column.plain("request_id"), Column.plain("api_key_id"),
        Column.plain("model"), Column.plain("replica_id"), Column.plain("endpoint"), new Column("stream", Kind.BOOL),
        Column.plain("created"), Column.plain("started_at"), Column.plain("duration"),
        Column.plain("time_to_first_token"), Column.plain("prompt_tokens"), Column.plain("completion_tokens"),
        Column.plain("total_tokens"), Column.plain("status"), Column.plain("error"), Column.plain("input"),
        Column.plain("choices"), Column.plain("resumes"), Column.plain("replicas")));
    return java.util.Collections.unmodifiableMap(t);
  }

  /**
   * Rows of {@code table} ordered by id, newest first.
   *
   * @param beforeId only rows with a smaller id (a cursor: the last id of the previous page), or null
   * @throws IllegalArgumentException if the table is not one of {@link #TABLES} (callers check first)
   */
  public Future<Page> page(String table, int limit, int offset, Long beforeId) {
    List<Column> columns = TABLES.get(table);
    if (columns == null) {
      throw new IllegalArgumentException("not a readable table: " + table);
    }
    String list = columns.stream().map(Column::name).collect(Collectors.joining(", "));
    String where = beforeId == null ? "" : " WHERE id < ?";
    Future<Long> total = db.pool().preparedQuery("SELECT COUNT(*) FROM " + table + where)
        .execute(beforeId == null ? Tuple.tuple() : Tuple.of(beforeId))
        .map(rows -> rows.iterator().next().getLong(0));
    Tuple pageParams = beforeId == null ? Tuple.of(limit, offset) : Tuple.of(beforeId, limit, offset);
    Future<List<JsonObject>> rows = db.pool()
        .preparedQuery("SELECT " + list + " FROM " + table + where + " ORDER BY id DESC LIMIT ? OFFSET ?")
        .execute(pageParams)
        .map(rs -> {
          List<JsonObject> out = new ArrayList<>(rs.size());
          for (Row r : rs) {
            out.add(json(r, columns));
          }
          return out;
        });
    return Future.all(total, rows).map(v -> new Page(rows.result(), total.result()));
  }

  private static JsonObject json(Row row, List<Column> columns) {
    JsonObject o = new JsonObject();
    for (Column c : columns) {
      Object v = row.getValue(c.name());
      o.put(c.name(), switch (c.kind()) {
        case BOOL -> v == null ? null : SqlValues.bool(row, c.name());
        case JSON -> v == null ? null : parseJson(v.toString());
        case PLAIN -> SqlValues.jsonValue(v);
      });
    }
    return o;
  }

  private static Object parseJson(String text) {
    try {
      return new JsonArray(text);
    } catch (DecodeException | ClassCastException e) {
      return text;
    }
  }
}
