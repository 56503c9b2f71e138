-- Replica API keys (vLLM's --api-key), stored encrypted (store/SecretBox: AES-256-GCM, "v1:<key id>:<base64>"),
-- and revoked console sessions (POST /api/v1/auth/logout), kept until the token would have expired anyway.
-- Written once for MariaDB/MySQL and for H2 in MySQL mode: keep to the syntax both understand.

ALTER TABLE replicas ADD COLUMN api_key_enc VARCHAR(512) NULL;

CREATE TABLE revoked_sessions (
  jti VARCHAR(64) NOT NULL PRIMARY KEY,
  expires_at DATETIME(3) NOT NULL
);

CREATE INDEX ix_revoked_sessions_expires_at ON revoked_sessions (expires_at);
