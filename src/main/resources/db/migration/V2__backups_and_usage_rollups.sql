-- Backups (one row per attempt, for GET /api/v1/backups) and the hourly roll-up of old usage rows.
-- Written once for MariaDB/MySQL and for H2 in MySQL mode: keep to the syntax both understand.

-- triggered_by: schedule or command; status: succeeded or failed. s3_key is set when the file was uploaded.
CREATE TABLE backups (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  started_at DATETIME(3) NOT NULL,
  finished_at DATETIME(3) NOT NULL,
  triggered_by VARCHAR(16) NOT NULL,
  attempt INT NOT NULL,
  status VARCHAR(16) NOT NULL,
  file_name VARCHAR(255) NULL,
  size_bytes BIGINT NULL,
  duration_ms BIGINT NOT NULL,
  sha256 CHAR(64) NULL,
  s3_key VARCHAR(1024) NULL,
  error TEXT NULL
);

CREATE INDEX ix_backups_started_at ON backups (started_at);

-- Usage rows older than metrics.retentionDays, summed per hour (hour_start: epoch seconds, a multiple of 3600).
-- Each hour is stored at four groupings (grouped_by: key_model, model, api_key, none) so that latency percentiles
-- stay exact per hour whatever the usage series is grouped by; api_key_id/model are NULL where not grouped by.
CREATE TABLE metrics_hourly (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  hour_start BIGINT NOT NULL,
  grouped_by VARCHAR(16) NOT NULL,
  api_key_id INT NULL,
  model VARCHAR(255) NULL,
  requests BIGINT NOT NULL,
  errors BIGINT NOT NULL,
  prompt_tokens BIGINT NOT NULL,
  completion_tokens BIGINT NOT NULL,
  duration_sum DOUBLE NOT NULL,
  duration_max DOUBLE NOT NULL,
  latency_p50 DOUBLE NOT NULL,
  latency_p95 DOUBLE NOT NULL
);

CREATE INDEX ix_metrics_hourly_hour ON metrics_hourly (grouped_by, hour_start);

-- One row per rolled-up hour, written in the same transaction as its aggregates: the guard against counting an hour
-- twice. Raw rows of that hour with id <= max_id were counted and are deleted (in small batches) afterwards.
CREATE TABLE metrics_rollups (
  hour_start BIGINT PRIMARY KEY,
  max_id BIGINT NOT NULL,
  rows_rolled BIGINT NOT NULL,
  rolled_at DATETIME(3) NOT NULL
);
