package io.inferencegateway.backup;

import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.store.DatabaseUrl;
import io.inferencegateway.support.TestServices;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

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

  /**
   * Credentials reach mysqldump through the option file, quoted: a password with quotes, a backslash, '#', ';' and
   * spaces works, and a wrong one fails with the server's reason, without the password in it.
   */
  @Test
  void passwordsWithAnyCharacterReachMysqldumpAndAWrongOneFailsCleanly() {
    DatabaseUrl root = DatabaseUrl.parse(config.database().url());
    String user = "igw_bk_" + Long.toHexString(System.nanoTime()).substring(4);
    String password = "p\"w'd \\ #not-a-comment; $HOME `x` ü";
    String sqlPassword = password.replace("\\", "\\\\").replace("'", "\\'");
    db.pool().query("CREATE USER '" + user + "'@'%' IDENTIFIED BY '" + sqlPassword + "'").execute().await();
    try {
      db.pool().query("GRANT SELECT, SHOW VIEW, TRIGGER, LOCK TABLES ON " + root.database() + ".* TO '" + user + "'@'%'")
          .execute().await();
      String url = "mysql://" + user + ":" + URLEncoder.encode(password, StandardCharsets.UTF_8) + "@" + root.host() + ":"
          + root.port() + "/" + root.database();
      GatewayConfig asUser = config.withDatabase(new GatewayConfig.Database(url, config.database().dataDir(), 2));
      BackupOutcome ok = service(asUser, db).take(BackupOutcome.COMMAND, Instant.now(), 1).await();
      assertThat(ok.error()).isNull();
      assertThat(ok.succeeded()).isTrue();

      String wrong = url.replace(URLEncoder.encode(password, StandardCharsets.UTF_8), "wrong-s3cret");
      GatewayConfig bad = config.withDatabase(new GatewayConfig.Database(wrong, config.database().dataDir(), 2));
      BackupOutcome failed = service(bad, db).take(BackupOutcome.COMMAND, Instant.now().plusSeconds(1), 1).await();
      assertThat(failed.succeeded()).isFalse();
      assertThat(failed.error()).contains("Access denied").doesNotContain("wrong-s3cret");
      assertThat(failed.fileName()).isNull();
      assertThat(config.backup().directory(config.database().dataDir()).toFile().list())
          .as("only the good backup, no partial file").containsExactly(ok.fileName());
    } finally {
      db.pool().query("DROP USER '" + user + "'@'%'").execute().await();
    }
  }
}
