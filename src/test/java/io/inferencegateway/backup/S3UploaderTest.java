package io.inferencegateway.backup;

import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.support.S3MockServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Uploads to a real S3-compatible server (S3Mock): in one PUT, in parts, and to a bucket that is not there. */
class S3UploaderTest {

  static GatewayConfig.S3 settings(S3MockServer s3, String bucket, String prefix) {
    return new GatewayConfig.S3(s3.endpoint(), "us-east-1", bucket, prefix, true, "key", "secret", 5L << 20);
  }

  static byte[] download(S3MockServer s3, String key) {
    try (S3Client client = S3Client.builder().httpClientBuilder(UrlConnectionHttpClient.builder())
        .endpointOverride(URI.create(s3.endpoint())).forcePathStyle(true).region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("a", "b"))).build()) {
      return client.getObjectAsBytes(b -> b.bucket(S3MockServer.BUCKET).key(key)).asByteArray();
    }
  }

  @Test
  void aFileLargerThanThePartSizeGoesUpInPartsAndArrivesWhole(@TempDir Path dir) throws Exception {
    S3MockServer s3 = S3MockServer.shared();
    byte[] data = new byte[(12 << 20) + 12_345]; // three parts of 5 MiB, the last one short
    new Random(42).nextBytes(data);
    Path file = Files.write(dir.resolve(BackupFiles.name("h2", java.time.Instant.now())), data);
    String prefix = "multipart-" + UUID.randomUUID() + "/";
    try (S3Uploader uploader = new S3Uploader(settings(s3, S3MockServer.BUCKET, prefix), Duration.ofMinutes(2))) {
      String key = uploader.upload(file, BackupFiles.sha256(file));
      assertThat(key).isEqualTo(prefix + file.getFileName());
      assertThat(download(s3, key)).isEqualTo(data);
    }
  }

  @Test
  void anUploadToAMissingBucketFailsWithTheServersReason(@TempDir Path dir) throws Exception {
    S3MockServer s3 = S3MockServer.shared();
    Path file = Files.writeString(dir.resolve(BackupFiles.name("h2", java.time.Instant.now())), "small");
    try (S3Uploader uploader = new S3Uploader(settings(s3, "no-such-bucket", ""), Duration.ofMinutes(1))) {
      assertThatThrownBy(() -> uploader.upload(file, BackupFiles.sha256(file))).isInstanceOf(software.amazon.awssdk.services.s3.model.NoSuchBucketException.class)
          .hasMessageContaining("bucket does not exist");
    }
  }
}
