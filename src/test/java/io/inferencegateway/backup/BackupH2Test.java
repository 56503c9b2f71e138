package io.inferencegateway.backup;

import io.vertx.core.Vertx;

/** Backups of the embedded H2 database: SCRIPT TO out, RUNSCRIPT in. */
class BackupH2Test extends BackupContract {

  @Override
  protected String newDatabase(Vertx vertx) {
    return null;
  }

  @Override
  protected void dropDatabase(Vertx vertx, String url) {
  }
}
