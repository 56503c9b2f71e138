package io.inferencegateway.backup;

import io.inferencegateway.support.TestServices;
import io.vertx.core.Vertx;

/** Backups of MariaDB: mysqldump --single-transaction out, the mariadb client in. */
class BackupMariaDbTest extends BackupContract {

  @Override
  protected String newDatabase(Vertx vertx) {
    return TestServices.freshMysqlDatabase(vertx);
  }

  @Override
  protected void dropDatabase(Vertx vertx, String url) {
    TestServices.dropMysqlDatabase(vertx, url);
  }
}
