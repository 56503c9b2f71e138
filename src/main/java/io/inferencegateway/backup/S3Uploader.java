package io.inferencegateway.backup;

import io.inferencegateway.config.GatewayConfig;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Uploads backup files to S3 or S3-compatible storage (AWS SDK for Java v2 over the JDK's HTTP client). Every request
 * carries a Content-MD5 of its body, which the server checks, so a corrupted upload fails instead of being stored;
 * files larger than the part size go up as a multipart upload (aborted on failure), so the size is not limited to a
 * single PUT's 5 GiB. The SDK's newer default checksums are asked for only where required: several S3-compatible
 * servers reject them.
 */
final class S3Uploader implements AutoCloseable {

  private final GatewayConfig.S3 settings;
  private final S3Client client;

  S3Uploader(GatewayConfig.S3 settings, Duration timeout) {
    this.settings = settings;
    S3ClientBuilder builder = S3Client.builder()
        .httpClientBuilder(UrlConnectionHttpClient.builder()
            .connectionTimeout(Duration.ofSeconds(10)).socketTimeout(Duration.ofMinutes(2)))
        .region(Region.of(settings.region()))
        .forcePathStyle(settings.pathStyle())
        .credentialsProvider(credentials(settings))
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .overrideConfiguration(c -> c.apiCallTimeout(timeout));
    if (settings.endpoint() != null) {
      builder.endpointOverride(URI.create(settings.endpoint()));
    }
    this.client = builder.build();
  }

  private static AwsCredentialsProvider credentials(GatewayConfig.S3 s) {
    if (s.accessKeyId() != null && s.secretAccessKey() != null) {
      return StaticCredentialsProvider.create(AwsBasicCredentials.create(s.accessKeyId(), s.secretAccessKey()));
    }
    return DefaultCredentialsProvider.builder().build();
  }

  /** The object key a backup file goes to. */
  String key(String fileName) {
    return settings.prefix() + fileName;
  }

  /** Uploads the file (blocking); returns its key. */
  String upload(Path file, String sha256) throws IOException {
    String key = key(file.getFileName().toString());
    long size = Files.size(file);
    Map<String, String> metadata = Map.of("sha256", sha256);
    if (size <= settings.partSizeBytes()) {
      String md5 = md5(file, 0, size);
      client.putObject(b -> b.bucket(settings.bucket()).key(key).contentLength(size).contentType("application/gzip")
          .contentMD5(md5).metadata(metadata), RequestBody.fromFile(file));
      return key;
    }
    String uploadId = client.createMultipartUpload(b -> b.bucket(settings.bucket()).key(key)
        .contentType("application/gzip").metadata(metadata)).uploadId();
    try {
      List<CompletedPart> parts = new ArrayList<>();
      int number = 1;
      for (long offset = 0; offset < size; offset += settings.partSizeBytes(), number++) {
        long length = Math.min(settings.partSizeBytes(), size - offset);
        long from = offset;
        int partNumber = number;
        String md5 = md5(file, from, length);
        UploadPartResponse part = client.uploadPart(b -> b.bucket(settings.bucket()).key(key).uploadId(uploadId)
                .partNumber(partNumber).contentLength(length).contentMD5(md5),
            RequestBody.fromContentProvider(() -> slice(file, from, length), length, "application/octet-stream"));
        parts.add(CompletedPart.builder().partNumber(partNumber).eTag(part.eTag()).build());
      }
      client.completeMultipartUpload(b -> b.bucket(settings.bucket()).key(key).uploadId(uploadId)
          .multipartUpload(m -> m.parts(parts)));
      return key;
    } catch (RuntimeException | IOException e) {
      try {
        client.abortMultipartUpload(b -> b.bucket(settings.bucket()).key(key).uploadId(uploadId));
      } catch (RuntimeException abortFailed) {
        e.addSuppressed(abortFailed);
      }
      throw e;
    }
  }

  private static String md5(Path file, long offset, long length) throws IOException {
    try (InputStream in = new DigestInputStream(slice(file, offset, length), MessageDigest.getInstance("MD5"))) {
      in.transferTo(java.io.OutputStream.nullOutputStream());
      return Base64.getEncoder().encodeToString(((DigestInputStream) in).getMessageDigest().digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  /** {@code length} bytes of the file from {@code offset}; a fresh stream per call (the SDK reopens it to retry). */
  private static InputStream slice(Path file, long offset, long length) {
    try {
      InputStream in = Files.newInputStream(file);
      in.skipNBytes(offset);
      return new FilterInputStream(in) {
        private long left = length;

        @Override
        public int read() throws IOException {
          if (left <= 0) {
            return -1;
          }
          int b = super.read();
          if (b >= 0) {
            left--;
          }
          return b;
        }

        @Override
        public int read(byte[] buf, int off, int len) throws IOException {
          if (left <= 0) {
            return -1;
          }
          int n = super.read(buf, off, (int) Math.min(len, left));
          if (n > 0) {
            left -= n;
          }
          return n;
        }

        @Override
        public int available() throws IOException {
          return (int) Math.min(super.available(), left);
        }
      };
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    client.close();
  }
}
