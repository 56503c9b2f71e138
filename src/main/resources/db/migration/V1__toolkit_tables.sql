-- The toolkit's tables (api_keys, llm_models, replicas, replica_security_rules, metrics) with what this gateway adds.
-- Written once for MariaDB/MySQL and for H2 in MySQL mode: keep to the syntax both understand.

CREATE TABLE llm_models (
  id INT AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  routing_strategy VARCHAR(32) NULL,
  created_at DATETIME(3) NOT NULL,
  CONSTRAINT uq_llm_models_name UNIQUE (name)
);

CREATE TABLE replicas (
  id INT AUTO_INCREMENT PRIMARY KEY,
  model_id INT NOT NULL,
  endpoint VARCHAR(255) NULL,
  rate_limit INT NULL,
  weight INT NULL,
  flavor_name VARCHAR(255) NULL,
  vm_status VARCHAR(32) NOT NULL,
  name VARCHAR(255) NULL,
  environment_name VARCHAR(255) NULL,
  image_name VARCHAR(255) NULL,
  assign_floating_ip BOOLEAN NULL,
  run_command TEXT NULL,
  key_name VARCHAR(255) NULL,
  vm_id INT NULL,
  port INT NULL,
  error_message TEXT NULL,
  created_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  CONSTRAINT fk_replicas_model FOREIGN KEY (model_id) REFERENCES llm_models (id) ON DELETE CASCADE
);

CREATE INDEX ix_replicas_model_id ON replicas (model_id);

CREATE TABLE replica_security_rules (
  id INT AUTO_INCREMENT PRIMARY KEY,
  replica_id INT NOT NULL,
  direction VARCHAR(64) NOT NULL,
  protocol VARCHAR(64) NOT NULL,
  ethertype VARCHAR(64) NOT NULL,
  remote_ip_prefix VARCHAR(64) NOT NULL,
  port_range_min INT NOT NULL,
  port_range_max INT NOT NULL,
  CONSTRAINT fk_rules_replica FOREIGN KEY (replica_id) REFERENCES replicas (id) ON DELETE CASCADE
);

CREATE INDEX ix_rules_replica_id ON replica_security_rules (replica_id);

-- Keys are stored as a SHA-256 hash plus a short display prefix; the plaintext exists only in the creation response.
CREATE TABLE api_keys (
  id INT AUTO_INCREMENT PRIMARY KEY,
  user_id VARCHAR(255) NOT NULL,
  key_hash CHAR(64) NOT NULL,
  key_prefix VARCHAR(16) NOT NULL,
  allowed_rpm INT NOT NULL,
  allowed_tpm INT NULL,
  models TEXT NULL,
  enabled BOOLEAN NOT NULL,
  expires_at DATETIME(3) NULL,
  created_at DATETIME(3) NOT NULL,
  last_used_at DATETIME(3) NULL,
  CONSTRAINT uq_api_keys_hash UNIQUE (key_hash)
);

CREATE INDEX ix_api_keys_user_id ON api_keys (user_id);

-- One row per proxied request. request_id is unique so that a batch retried after an unknown outcome is written once.
-- No foreign key to api_keys: a usage row must never be refused because its key was deleted meanwhile.
CREATE TABLE metrics (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  request_id CHAR(36) NOT NULL,
  api_key_id INT NULL,
  model VARCHAR(255) NULL,
  replica_id INT NULL,
  endpoint VARCHAR(32) NOT NULL,
  stream BOOLEAN NOT NULL,
  created BIGINT NOT NULL,
  started_at DATETIME(3) NOT NULL,
  duration DOUBLE NOT NULL,
  time_to_first_token DOUBLE NULL,
  prompt_tokens INT NOT NULL,
  completion_tokens INT NOT NULL,
  total_tokens INT NOT NULL,
  status INT NOT NULL,
  error TEXT NULL,
  input TEXT NULL,
  choices TEXT NULL,
  CONSTRAINT uq_metrics_request_id UNIQUE (request_id)
);

-- Few indexes on purpose: every one costs on each of the many inserts. Time ranges (charts, paging by time) use
-- created; "does this key have usage" uses api_key_id.
CREATE INDEX ix_metrics_created ON metrics (created);
CREATE INDEX ix_metrics_api_key_id ON metrics (api_key_id);

-- Gateway-wide settings, e.g. the hash of a generated admin key.
CREATE TABLE gateway_settings (
  name VARCHAR(64) PRIMARY KEY,
  setting_value TEXT NOT NULL
);
