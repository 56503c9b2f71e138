package io.inferencegateway.store;

import io.vertx.jdbcclient.JDBCPool;
import io.vertx.mysqlclient.MySQLClient;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;

/**
 * The few places where MariaDB/MySQL (vertx-mysql-client) and embedded H2 (vertx-jdbc-client) differ.
 * Everything else in the data layer is one SQL text for both.
 */
public enum Dialect {
  MYSQL {
    @Override
    public long generatedId(RowSet<Row> rows) {
      Long id = rows.property(MySQLClient.LAST_INSERTED_ID);
      if (id == null) {
        throw new IllegalStateException("MySQL returned no generated id");
      }
      return id;
    }
  },
  H2 {
    @Override
    public long generatedId(RowSet<Row> rows) {
      Row keys = rows.property(JDBCPool.GENERATED_KEYS);
      if (keys == null) {
        throw new IllegalStateException("H2 returned no generated id");
      }
      return keys.getLong(0);
    }
  };

  /** The id of the row an INSERT just created. */
  public abstract long generatedId(RowSet<Row> rows);
}
