package io.inferencegateway.backup;

import io.inferencegateway.config.ConfigLoader;
import io.inferencegateway.config.GatewayConfig;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackupConfigTest {

  private static GatewayConfig withBackup(JsonObject backup) {
    return GatewayConfig.fromJson(new JsonObject().put("backup", backup));
  }

  @Test
  void defaultsAreDailyLocalBackupsAndThirtyDaysOfRawUsage() {
    GatewayConfig bundled = GatewayConfig.fromJson(ConfigLoader.bundledDefaults());
    GatewayConfig.Backup b = bundled.backup();
    assertThat(b.schedule()).isEqualTo("0 3 * * *");
    assertThat(b.keep()).isEqualTo(7);
    assertThat(b.retries()).isEqualTo(3);
    assertThat(b.s3().enabled()).isFalse();
    assertThat(b.s3().prefix()).isEqualTo("inference-gateway/");
    assertThat(b.directory("/var/lib/igw")).isEqualTo(Path.of("/var/lib/igw/backups"));
    assertThat(bundled.retention().retentionDays()).isEqualTo(30);
    assertThat(bundled.retention().schedule()).isEqualTo("17 * * * *");
    assertThat(bundled.retention().deleteBatchRows()).isEqualTo(1000);
    assertThat(GatewayConfig.fromJson(new JsonObject())).as("the same without a file")
        .extracting(GatewayConfig::backup, GatewayConfig::retention).containsExactly(b, bundled.retention());
  }

  @Test
  void credentialsComeFromTheEnvironmentAndNeverShowInToString() {
    GatewayConfig c = withBackup(new JsonObject().put("s3", new JsonObject().put("bucket", "b")))
        .withEnvironment(Map.of("BACKUP_S3_ACCESS_KEY_ID", "AKIDEXAMPLE", "BACKUP_S3_SECRET_ACCESS_KEY", "s3cr3t-value"));
    assertThat(c.backup().s3().accessKeyId()).isEqualTo("AKIDEXAMPLE");
    assertThat(c.backup().s3().secretAccessKey()).isEqualTo("s3cr3t-value");
    assertThat(c.backup().toString()).doesNotContain("s3cr3t-value").doesNotContain("AKIDEXAMPLE");
    assertThatThrownBy(() -> withBackup(new JsonObject()).withEnvironment(Map.of("BACKUP_S3_ACCESS_KEY_ID", "x")))
        .hasMessageContaining("BACKUP_S3_SECRET_ACCESS_KEY");
  }

  @Test
  void badValuesAreRefusedAtStart() {
    assertThatThrownBy(() -> withBackup(new JsonObject().put("schedule", "3am daily")))
        .hasMessageContaining("backup.schedule");
    assertThatThrownBy(() -> withBackup(new JsonObject().put("keep", 0))).hasMessageContaining("backup.keep");
    assertThatThrownBy(() -> withBackup(new JsonObject().put("s3", new JsonObject().put("partSizeBytes", 1024))))
        .hasMessageContaining("partSizeBytes");
    assertThatThrownBy(() -> GatewayConfig.fromJson(new JsonObject().put("metrics",
        new JsonObject().put("rollupSchedule", "hourly")))).hasMessageContaining("metrics.rollupSchedule");
    assertThatThrownBy(() -> GatewayConfig.fromJson(new JsonObject().put("metrics",
        new JsonObject().put("deleteBatchRows", 5000)))).hasMessageContaining("metrics.deleteBatchRows");
    assertThat(withBackup(new JsonObject().put("schedule", "off")).backup().schedule()).isEqualTo("off");
  }
}
