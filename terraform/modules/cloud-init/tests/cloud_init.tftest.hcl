# Offline tests of the rendered cloud-configs: `terraform test` in this module.
# No providers are involved, so `command = plan` renders everything.

variables {
  vllm = {
    model = "NousResearch/Meta-Llama-3.1-8B-Instruct"
    args = [
      "--gpu-memory-utilization", "0.9",
      "--max-model-len", "15360",
      "--enable-auto-tool-choice",
      "--tool-call-parser", "llama3_json",
      "--chat-template", "/vllm-workspace/examples/tool_chat_template_llama3.1_json.jinja",
    ]
  }
}

run "vllm_defaults" {
  command = plan

  assert {
    condition     = startswith(output.vllm, "#cloud-config\n")
    error_message = "The vLLM user_data must start with #cloud-config."
  }
  assert {
    condition     = can(yamldecode(output.vllm))
    error_message = "The vLLM user_data must be valid YAML."
  }
  assert {
    condition     = output.gateway == null
    error_message = "No gateway cloud-config is rendered when var.gateway is null."
  }
  assert {
    condition = (
      jsondecode([for f in yamldecode(output.vllm).write_files : f.content if f.path == "/etc/vllm/vllm.json"][0]).model == "NousResearch/Meta-Llama-3.1-8B-Instruct" &&
      jsondecode([for f in yamldecode(output.vllm).write_files : f.content if f.path == "/etc/vllm/vllm.json"][0]).port == 8000 &&
      tolist(jsondecode([for f in yamldecode(output.vllm).write_files : f.content if f.path == "/etc/vllm/vllm.json"][0]).args) == var.vllm.args &&
      jsondecode([for f in yamldecode(output.vllm).write_files : f.content if f.path == "/etc/vllm/vllm.json"][0]).image == "vllm/vllm-openai:v0.8.5"
    )
    error_message = "/etc/vllm/vllm.json must carry the model, the default port 8000, the arguments and the image."
  }
  assert {
    condition = strcontains(
      [for f in yamldecode(output.vllm).write_files : f.content if f.path == "/usr/local/sbin/vllm-run.sh"][0],
      "--model 'NousResearch/Meta-Llama-3.1-8B-Instruct'",
    )
    error_message = "The run script must pass the model to vLLM."
  }
  assert {
    condition = alltrue([
      for s in ["--port 8000", "--publish 8000:8000", "--gpus all", "--ipc=host", "'vllm/vllm-openai:v0.8.5'",
      "--volume '/ephemeral/hf-cache':/root/.cache/huggingface", "--env-file /etc/vllm/vllm.env"] :
      strcontains([for f in yamldecode(output.vllm).write_files : f.content if f.path == "/usr/local/sbin/vllm-run.sh"][0], s)
    ])
    error_message = "The run script must publish port 8000, use the GPUs and mount the persistent Hugging Face cache."
  }
  assert {
    condition = strcontains(
      [for f in yamldecode(output.vllm).write_files : f.content if f.path == "/usr/local/sbin/vllm-run.sh"][0],
      join(" \\\n  ", [for a in var.vllm.args : "'${a}'"]),
    )
    error_message = "The run script must pass every vLLM argument, quoted and in order."
  }
  assert {
    condition = alltrue([
      for s in ["Restart=always", "ExecStart=/usr/local/sbin/vllm-run.sh", "Requires=docker.service"] :
      strcontains([for f in yamldecode(output.vllm).write_files : f.content if f.path == "/etc/systemd/system/vllm.service"][0], s)
    ])
    error_message = "vllm.service must run the script under docker and restart it always."
  }
  assert {
    condition     = contains(yamldecode(output.vllm).runcmd, ["/usr/local/sbin/ensure-gpu-docker.sh"]) && contains(yamldecode(output.vllm).runcmd, ["systemctl", "enable", "--now", "vllm.service"])
    error_message = "runcmd must install Docker/NVIDIA toolkit and start vllm.service."
  }
  assert {
    condition = alltrue([
      for s in ["command -v docker", "nvidia-container-toolkit", "nvidia-ctk runtime configure --runtime=docker"] :
      strcontains([for f in yamldecode(output.vllm).write_files : f.content if f.path == "/usr/local/sbin/ensure-gpu-docker.sh"][0], s)
    ])
    error_message = "ensure-gpu-docker.sh must install Docker and the NVIDIA container toolkit when missing."
  }
  assert {
    condition     = !strcontains([for f in yamldecode(output.vllm).write_files : f.content if f.path == "/etc/vllm/vllm.env"][0], "TOKEN")
    error_message = "Without hf_token, no token is written."
  }
  assert {
    condition     = !strcontains(output.vllm, "VLLM_API_KEY")
    error_message = "Without an api_key, vLLM gets none."
  }
}

run "vllm_api_key" {
  command = plan

  variables {
    vllm = {
      model   = "NousResearch/Meta-Llama-3.1-8B-Instruct"
      args    = ["--max-model-len", "15360"]
      api_key = "replicakey0123456789ABCDEFabcdef"
    }
  }

  assert {
    condition = [for f in yamldecode(output.vllm).write_files : f if f.path == "/etc/vllm/vllm.env"][0] == {
      path        = "/etc/vllm/vllm.env"
      owner       = "root:root"
      permissions = "0600"
      content     = "# Environment of the vLLM container (docker --env-file).\nVLLM_API_KEY=replicakey0123456789ABCDEFabcdef\n"
    }
    error_message = "The replica's API key must reach vLLM as VLLM_API_KEY (its --api-key) through the 0600 env file."
  }
  assert {
    condition     = strcontains([for f in yamldecode(output.vllm).write_files : f.content if f.path == "/usr/local/sbin/vllm-run.sh"][0], "--env-file /etc/vllm/vllm.env")
    error_message = "The container must get the env file that holds VLLM_API_KEY."
  }
  assert {
    condition     = strcontains([for f in yamldecode(output.vllm).write_files : f.content if f.path == "/etc/systemd/system/vllm.service"][0], "VLLM_API_KEY in\n# /etc/vllm/vllm.env")
    error_message = "The unit says where the API key comes from."
  }
  assert {
    condition = alltrue([
      for f in yamldecode(output.vllm).write_files : !strcontains(f.content, "replicakey0123456789ABCDEFabcdef") if f.path != "/etc/vllm/vllm.env"
    ])
    error_message = "The API key must be in no other file (not on the command line of the run script, the unit or vllm.json)."
  }
  assert {
    condition     = !strcontains([for f in yamldecode(output.vllm).write_files : f.content if f.path == "/usr/local/sbin/vllm-run.sh"][0], "--api-key")
    error_message = "The key is never a command-line argument (ps would show it)."
  }
}

run "vllm_rejects_api_key_argument" {
  command = plan

  variables {
    vllm = {
      model = "NousResearch/Meta-Llama-3.1-8B-Instruct"
      args  = ["--api-key", "visible-in-ps-0123456789"]
    }
  }

  expect_failures = [var.vllm]
}

run "vllm_rejects_short_api_key" {
  command = plan

  variables {
    vllm = {
      model   = "NousResearch/Meta-Llama-3.1-8B-Instruct"
      api_key = "short"
    }
  }

  expect_failures = [var.vllm]
}


run "vllm_custom_port_token_and_quoting" {
  command = plan

  variables {
    vllm = {
      model        = "microsoft/Phi-3-medium-128k-instruct"
      port         = 9000
      args         = ["--served-model-name", "it's-phi"]
      hf_cache_dir = "/root/.cache/huggingface"
    }
    hf_token = "hf_example_token"
  }

  assert {
    condition = alltrue([
      for s in ["--port 9000", "--publish 9000:9000", "--model 'microsoft/Phi-3-medium-128k-instruct'", "'it'\\''s-phi'",
      "--volume '/root/.cache/huggingface':/root/.cache/huggingface"] :
      strcontains([for f in yamldecode(output.vllm).write_files : f.content if f.path == "/usr/local/sbin/vllm-run.sh"][0], s)
    ])
    error_message = "The run script must use the custom port, the model and shell-quote arguments."
  }
  assert {
    condition     = jsondecode([for f in yamldecode(output.vllm).write_files : f.content if f.path == "/etc/vllm/vllm.json"][0]).port == 9000
    error_message = "vllm.json must carry the custom port."
  }
  assert {
    condition = [for f in yamldecode(output.vllm).write_files : f if f.path == "/etc/vllm/vllm.env"][0] == {
      path        = "/etc/vllm/vllm.env"
      owner       = "root:root"
      permissions = "0600"
      content     = "# Environment of the vLLM container (docker --env-file).\nHUGGING_FACE_HUB_TOKEN=hf_example_token\nHF_TOKEN=hf_example_token\n"
    }
    error_message = "The Hugging Face token must be in a 0600 env file."
  }
}

run "vllm_rejects_bad_port" {
  command = plan

  variables {
    vllm = {
      model = "microsoft/Phi-3-medium-128k-instruct"
      port  = 70000
    }
  }

  expect_failures = [var.vllm]
}

run "vllm_rejects_empty_model" {
  command = plan

  variables {
    vllm = {
      model = " "
    }
  }

  expect_failures = [var.vllm]
}

run "gateway" {
  command = plan

  variables {
    vllm = null
    gateway = {
      jar_url            = "https://github.com/example/inference-gateway/releases/download/v1.0.0/inference-gateway.jar"
      jar_sha256         = "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"
      admin_api_key      = "adminkey0123456789abcdef"
      app_password       = "consolepassword0123"
      db_password        = "dbpassword0123456789"
      hyperstack_api_key = "hs-key-0123"
      models = {
        "NousResearch/Meta-Llama-3.1-8B-Instruct" = [
          { endpoint = "http://10.0.0.10:8000", api_key = "replicakeyAAAA0123456789" },
          { endpoint = "http://10.0.0.11:8000", api_key = "replicakeyBBBB0123456789" },
        ]
        "microsoft/Phi-3-medium-128k-instruct" = [{ endpoint = "http://10.0.0.12:8000" }]
      }
    }
  }

  assert {
    condition     = output.vllm == null && output.data == null
    error_message = "Only the gateway cloud-config is rendered when var.vllm and var.data are null."
  }
  assert {
    condition     = startswith(output.gateway, "#cloud-config\n") && can(yamldecode(output.gateway))
    error_message = "The gateway user_data must be YAML starting with #cloud-config."
  }
  assert {
    condition     = alltrue([for p in ["openjdk-17-jre-headless", "mariadb-server", "redis-server", "jq", "curl"] : contains(yamldecode(output.gateway).packages, p)])
    error_message = "The gateway needs a JDK, MariaDB, Redis, curl and jq."
  }
  assert {
    condition = [for f in yamldecode(output.gateway).write_files : f if f.path == "/etc/inference-gateway/gateway.env"][0] == {
      path        = "/etc/inference-gateway/gateway.env"
      owner       = "root:root"
      permissions = "0600"
      content     = <<-EOT
        ADMIN_API_KEY=adminkey0123456789abcdef
        APP_PASSWORD=consolepassword0123
        DATABASE_URL=mysql://gateway:dbpassword0123456789@127.0.0.1:3306/inference_gateway
        HTTP_PORT=5001
        HYPERSTACK_API_KEY=hs-key-0123
        REDIS_URL=redis://127.0.0.1:6379
        SHUTDOWN_DRAIN_SECONDS=30
      EOT
    }
    error_message = "gateway.env must be 0600 and hold the gateway's environment with local MariaDB and Redis, no TLS and no cluster."
  }
  assert {
    condition = [for f in yamldecode(output.gateway).write_files : f if f.path == "/etc/inference-gateway/models.json"][0].permissions == "0600" && jsondecode([for f in yamldecode(output.gateway).write_files : f.content if f.path == "/etc/inference-gateway/models.json"][0]) == [
      {
        name = "NousResearch/Meta-Llama-3.1-8B-Instruct",
        replicas = [
          { endpoint = "http://10.0.0.10:8000", api_key = "replicakeyAAAA0123456789" },
          { endpoint = "http://10.0.0.11:8000", api_key = "replicakeyBBBB0123456789" },
        ]
      },
      { name = "microsoft/Phi-3-medium-128k-instruct", replicas = [{ endpoint = "http://10.0.0.12:8000", api_key = "" }] },
    ]
    error_message = "models.json (root-only: it holds the replica keys) must list every model with its replicas and their API keys."
  }
  assert {
    condition = alltrue([
      for s in ["CREATE DATABASE IF NOT EXISTS `inference_gateway`", "CREATE USER IF NOT EXISTS 'gateway'@'localhost' IDENTIFIED BY 'dbpassword0123456789'",
      "GRANT ALL PRIVILEGES ON `inference_gateway`.* TO 'gateway'@'127.0.0.1'"] :
      strcontains([for f in yamldecode(output.gateway).write_files : f.content if f.path == "/etc/inference-gateway/db-setup.sql"][0], s)
    ]) && !strcontains([for f in yamldecode(output.gateway).write_files : f.content if f.path == "/etc/inference-gateway/db-setup.sql"][0], "'%'")
    error_message = "db-setup.sql must create the database and a user for local connections only."
  }
  assert {
    condition = strcontains(
      [for f in yamldecode(output.gateway).write_files : f.content if f.path == "/usr/local/sbin/inference-gateway-install.sh"][0],
      "echo \"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef  $tmp\" | sha256sum --check --strict -",
    )
    error_message = "With jar_sha256 the install script must verify the jar (lower-cased checksum)."
  }
  assert {
    condition = strcontains(
      [for f in yamldecode(output.gateway).write_files : f.content if f.path == "/usr/local/sbin/inference-gateway-install.sh"][0],
      "'https://github.com/example/inference-gateway/releases/download/v1.0.0/inference-gateway.jar'",
    )
    error_message = "The install script must download the given jar URL."
  }
  assert {
    condition = alltrue([
      for s in [
        "Restart=always", "User=inference-gateway", "EnvironmentFile=/etc/inference-gateway/gateway.env",
        "ExecStart=/usr/bin/java -jar /opt/inference-gateway/inference-gateway.jar run",
        "Requires=mariadb.service redis-server.service",
        "ExecStartPost=/usr/local/sbin/inference-gateway-health.sh wait",
        "\nKillSignal=SIGTERM\n", "\nKillMode=mixed\n", "\nTimeoutStopSec=60\n",
      ] :
      strcontains([for f in yamldecode(output.gateway).write_files : f.content if f.path == "/etc/systemd/system/inference-gateway.service"][0], s)
    ])
    error_message = "The gateway unit must use the local database, wait for /health/live, stop with SIGTERM and give the drain (30 s) plus a margin before SIGKILL."
  }
  assert {
    condition     = !strcontains([for f in yamldecode(output.gateway).write_files : f.content if f.path == "/etc/systemd/system/inference-gateway.service"][0], "cluster")
    error_message = "A single gateway has no cluster membership step."
  }
  assert {
    condition = alltrue([
      for s in ["/health/live", "/health/ready", "systemctl restart --no-block \"$unit\"", "HEALTH_MAX_FAILURES"] :
      strcontains([for f in yamldecode(output.gateway).write_files : f.content if f.path == "/usr/local/sbin/inference-gateway-health.sh"][0], s)
    ])
    error_message = "The health script must wait for /health/live and /health/ready and restart a gateway whose liveness probe keeps failing."
  }
  assert {
    condition = (
      strcontains([for f in yamldecode(output.gateway).write_files : f.content if f.path == "/etc/systemd/system/inference-gateway-health.timer"][0], "OnUnitActiveSec=30s") &&
      strcontains([for f in yamldecode(output.gateway).write_files : f.content if f.path == "/etc/systemd/system/inference-gateway-health.service"][0], "inference-gateway-health.sh watch")
    )
    error_message = "A timer must run the liveness probe every 30 s."
  }
  assert {
    condition = alltrue([
      for s in ["health.sh live", "/api/v1/models", "/replicas", "already exists", ".replicas[]", "{api_key}", "--data-binary \"@$workdir/data\""] :
      strcontains([for f in yamldecode(output.gateway).write_files : f.content if f.path == "/usr/local/sbin/inference-gateway-register.sh"][0], s)
    ])
    error_message = "The registration script must wait for /health/live and register models and replicas with their API keys, the body from a file (not curl's arguments)."
  }
  assert {
    condition     = strcontains([for f in yamldecode(output.gateway).write_files : f.content if f.path == "/etc/systemd/system/inference-gateway-register.service"][0], "EnvironmentFile=/etc/inference-gateway/gateway.env")
    error_message = "The registration reads the admin key from gateway.env through systemd."
  }
  assert {
    condition     = length([for f in yamldecode(output.gateway).write_files : f if startswith(f.path, "/etc/inference-gateway/tls/")]) == 0 && !strcontains([for f in yamldecode(output.gateway).write_files : f.content if f.path == "/etc/inference-gateway/gateway.env"][0], "TLS_")
    error_message = "Without a certificate, no TLS files or settings."
  }
  assert {
    condition = yamldecode(output.gateway).runcmd == [
      ["/usr/local/sbin/inference-gateway-prepare.sh"],
      ["systemctl", "enable", "--now", "mariadb.service", "redis-server.service"],
      ["sh", "-c", "mysql --protocol=socket -u root < /etc/inference-gateway/db-setup.sql"],
      ["/usr/local/sbin/inference-gateway-install.sh"],
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "inference-gateway.service", "inference-gateway-register.service"],
      ["systemctl", "enable", "--now", "inference-gateway-health.timer"],
      ["systemctl", "start", "--no-block", "inference-gateway.service"],
      ["systemctl", "start", "--no-block", "inference-gateway-register.service"],
    ]
    error_message = "runcmd must create the user, set up the database, install the jar and start the services and the liveness timer."
  }
}

run "gateway_tls" {
  command = plan

  variables {
    vllm = null
    gateway = {
      jar_url       = "https://example.com/inference-gateway.jar"
      admin_api_key = "adminkey0123456789abcdef"
      app_password  = "consolepassword0123"
      db_password   = "dbpassword0123456789"
      tls_cert_pem  = "-----BEGIN CERTIFICATE-----\nMIIBcertificate\n-----END CERTIFICATE-----\n"
      tls_key_pem   = "-----BEGIN PRIVATE KEY-----\nMIIEkey\n-----END PRIVATE KEY-----\n"
      models        = {}
    }
  }

  assert {
    condition = alltrue([
      for s in ["TLS_CERT_FILE=/etc/inference-gateway/tls/cert.pem\n", "TLS_KEY_FILE=/etc/inference-gateway/tls/key.pem\n"] :
      strcontains([for f in yamldecode(output.gateway).write_files : f.content if f.path == "/etc/inference-gateway/gateway.env"][0], s)
    ])
    error_message = "With a certificate, the gateway gets TLS_CERT_FILE and TLS_KEY_FILE."
  }
  assert {
    condition = (
      [for f in yamldecode(output.gateway).write_files : f if f.path == "/etc/inference-gateway/tls/cert.pem"][0] == {
        path    = "/etc/inference-gateway/tls/cert.pem", owner = "root:root", permissions = "0644",
        content = "-----BEGIN CERTIFICATE-----\nMIIBcertificate\n-----END CERTIFICATE-----\n"
      } &&
      [for f in yamldecode(output.gateway).write_files : f if f.path == "/etc/inference-gateway/tls/key.pem"][0] == {
        path    = "/etc/inference-gateway/tls/key.pem", owner = "root:root", permissions = "0600",
        content = "-----BEGIN PRIVATE KEY-----\nMIIEkey\n-----END PRIVATE KEY-----\n"
      }
    )
    error_message = "The certificate and the (root-only) key must be written where TLS_CERT_FILE and TLS_KEY_FILE point."
  }
  assert {
    condition = alltrue([
      for s in ["useradd --system", "chown root:\"$user\" \"$tls\" \"$tls/key.pem\"", "chmod 0640 \"$tls/key.pem\""] :
      strcontains([for f in yamldecode(output.gateway).write_files : f.content if f.path == "/usr/local/sbin/inference-gateway-prepare.sh"][0], s)
    ])
    error_message = "The prepare script must let the gateway's group (and only it) read the key."
  }
  assert {
    condition     = yamldecode(output.gateway).runcmd[0] == ["/usr/local/sbin/inference-gateway-prepare.sh"]
    error_message = "The key's permissions are fixed before anything starts."
  }
  assert {
    condition     = strcontains([for f in yamldecode(output.gateway).write_files : f.content if f.path == "/usr/local/sbin/inference-gateway-health.sh"][0], "scheme=https")
    error_message = "With TLS the local probes use https."
  }
}

run "gateway_tls_rotated" {
  command = plan

  variables {
    vllm = null
    gateway = {
      jar_url       = "https://example.com/inference-gateway.jar"
      admin_api_key = "adminkey0123456789abcdef"
      app_password  = "consolepassword0123"
      db_password   = "dbpassword0123456789"
      tls_cert_pem  = "-----BEGIN CERTIFICATE-----\nMIIBrenewed\n-----END CERTIFICATE-----\n"
      tls_key_pem   = "-----BEGIN EC PRIVATE KEY-----\nMHcrenewed\n-----END EC PRIVATE KEY-----\n"
      models        = {}
    }
  }

  assert {
    condition     = output.gateway_replace_hash == run.gateway_tls.gateway_replace_hash && output.gateway != run.gateway_tls.gateway
    error_message = "A new certificate and key change the cloud-config but not the hash that replaces the VM."
  }
}

run "gateway_tls_other_port" {
  command = plan

  variables {
    vllm = null
    gateway = {
      jar_url       = "https://example.com/inference-gateway.jar"
      http_port     = 8443
      admin_api_key = "adminkey0123456789abcdef"
      app_password  = "consolepassword0123"
      db_password   = "dbpassword0123456789"
      tls_cert_pem  = "-----BEGIN CERTIFICATE-----\nMIIBcertificate\n-----END CERTIFICATE-----\n"
      tls_key_pem   = "-----BEGIN PRIVATE KEY-----\nMIIEkey\n-----END PRIVATE KEY-----\n"
      models        = {}
    }
  }

  assert {
    condition     = output.gateway_replace_hash != run.gateway_tls.gateway_replace_hash
    error_message = "Any other change (here the port) changes the replacement hash."
  }
}

run "gateway_rejects_certificate_without_key" {
  command = plan

  variables {
    vllm = null
    gateway = {
      jar_url       = "https://example.com/inference-gateway.jar"
      admin_api_key = "adminkey0123456789abcdef"
      app_password  = "consolepassword0123"
      db_password   = "dbpassword0123456789"
      tls_cert_pem  = "-----BEGIN CERTIFICATE-----\nMIIBcertificate\n-----END CERTIFICATE-----\n"
      models        = {}
    }
  }

  expect_failures = [var.gateway]
}

run "gateway_cluster_member" {
  command = plan

  variables {
    vllm = null
    gateway = {
      jar_url        = "https://example.com/inference-gateway.jar"
      admin_api_key  = "adminkey0123456789abcdef"
      app_password   = "consolepassword0123"
      db_password    = "dbpassword0123456789"
      data_host      = "10.0.0.5"
      redis_password = "redispassword0123456789"
      cluster        = true
      drain_seconds  = 45
      models         = { "m" = [{ endpoint = "http://10.0.0.10:8000", api_key = "replicakeyAAAA0123456789" }] }
    }
  }

  assert {
    condition     = [for f in yamldecode(output.gateway).write_files : f.content if f.path == "/etc/inference-gateway/gateway.env"][0] == <<-EOT
      ADMIN_API_KEY=adminkey0123456789abcdef
      APP_PASSWORD=consolepassword0123
      CLUSTER_PORT=5701
      DATABASE_URL=mysql://gateway:dbpassword0123456789@10.0.0.5:3306/inference_gateway
      HTTP_MAX_CONNECTIONS_PER_ADDRESS=0
      HTTP_PORT=5001
      REDIS_URL=redis://:redispassword0123456789@10.0.0.5:6379
      SHUTDOWN_DRAIN_SECONDS=45
    EOT
    error_message = "A cluster member uses the data VM's MariaDB and Redis (with its password), gets CLUSTER_PORT, and no per-address connection limit (it sits behind a load balancer)."
  }
  assert {
    condition = alltrue([
      for s in [
        "RuntimeDirectory=inference-gateway",
        "ExecStartPre=/usr/local/sbin/inference-gateway-cluster.sh env",
        "EnvironmentFile=-/run/inference-gateway/cluster.env",
        "\nTimeoutStopSec=75\n",
      ] :
      strcontains([for f in yamldecode(output.gateway).write_files : f.content if f.path == "/etc/systemd/system/inference-gateway.service"][0], s)
    ])
    error_message = "A cluster member writes CLUSTER_HOST and CLUSTER_MEMBERS before the gateway starts, and waits drain (45 s) plus margin on stop."
  }
  assert {
    condition = (
      strcontains([for f in yamldecode(output.gateway).write_files : f.content if f.path == "/etc/systemd/system/inference-gateway.service"][0], "ExecStartPre") &&
      strcontains([for f in yamldecode(output.gateway).write_files : f.content if f.path == "/etc/systemd/system/inference-gateway.service"][0], "EnvironmentFile=-/run/inference-gateway/cluster.env\nExecStart=")
    )
    error_message = "The cluster environment file is listed after gateway.env (it wins) and read for ExecStart."
  }
  assert {
    condition = alltrue([
      for s in ["ZADD", "ZRANGEBYSCORE", "CLUSTER_MEMBERS=", "CLUSTER_HOST=", "REDISCLI_AUTH"] :
      strcontains([for f in yamldecode(output.gateway).write_files : f.content if f.path == "/usr/local/sbin/inference-gateway-cluster.sh"][0], s)
    ])
    error_message = "The cluster script registers the member in Redis and writes the member list."
  }
  assert {
    condition = (
      !strcontains([for f in yamldecode(output.gateway).write_files : f.content if f.path == "/etc/systemd/system/inference-gateway.service"][0], "mariadb") &&
      length([for f in yamldecode(output.gateway).write_files : f if f.path == "/etc/inference-gateway/db-setup.sql"]) == 0 &&
      !contains(yamldecode(output.gateway).packages, "mariadb-server") && !contains(yamldecode(output.gateway).packages, "redis-server") &&
      contains(yamldecode(output.gateway).packages, "mariadb-client") && contains(yamldecode(output.gateway).packages, "redis-tools") &&
      !contains(yamldecode(output.gateway).runcmd, ["systemctl", "enable", "--now", "mariadb.service", "redis-server.service"])
    )
    error_message = "A gateway using the data VM installs no database server, only the clients (mysqldump for backups, redis-cli for membership)."
  }
}

run "gateway_rejects_cluster_without_data_vm" {
  command = plan

  variables {
    vllm = null
    gateway = {
      jar_url       = "https://example.com/inference-gateway.jar"
      admin_api_key = "adminkey0123456789abcdef"
      app_password  = "consolepassword0123"
      db_password   = "dbpassword0123456789"
      cluster       = true
      models        = {}
    }
  }

  expect_failures = [var.gateway]
}

run "gateway_rejects_event_bus_port_on_http_port" {
  command = plan

  variables {
    vllm = null
    gateway = {
      jar_url        = "https://example.com/inference-gateway.jar"
      http_port      = 5702
      admin_api_key  = "adminkey0123456789abcdef"
      app_password   = "consolepassword0123"
      db_password    = "dbpassword0123456789"
      data_host      = "10.0.0.5"
      redis_password = "redispassword0123456789"
      cluster        = true
      models         = {}
    }
  }

  expect_failures = [var.gateway]
}

run "gateway_without_checksum_or_hyperstack_key" {
  command = plan

  variables {
    vllm = null
    gateway = {
      jar_url       = "https://example.com/inference-gateway.jar"
      http_port     = 8080
      admin_api_key = "adminkey0123456789abcdef"
      app_password  = "consolepassword0123"
      db_password   = "dbpassword0123456789"
      models        = {}
    }
  }

  assert {
    condition     = !strcontains([for f in yamldecode(output.gateway).write_files : f.content if f.path == "/usr/local/sbin/inference-gateway-install.sh"][0], "sha256sum")
    error_message = "Without jar_sha256 there is nothing to verify against."
  }
  assert {
    condition     = !strcontains([for f in yamldecode(output.gateway).write_files : f.content if f.path == "/etc/inference-gateway/gateway.env"][0], "HYPERSTACK_API_KEY")
    error_message = "An empty Hyperstack key is left out of gateway.env."
  }
  assert {
    condition     = strcontains([for f in yamldecode(output.gateway).write_files : f.content if f.path == "/etc/inference-gateway/gateway.env"][0], "HTTP_PORT=8080\n")
    error_message = "The gateway port goes into gateway.env."
  }
}

run "gateway_rejects_bad_checksum_and_endpoint" {
  command = plan

  variables {
    vllm = null
    gateway = {
      jar_url       = "https://example.com/inference-gateway.jar"
      jar_sha256    = "not-a-checksum"
      admin_api_key = "adminkey0123456789abcdef"
      app_password  = "consolepassword0123"
      db_password   = "dbpassword0123456789"
      models        = { "m" = [{ endpoint = "10.0.0.5:8000" }] }
    }
  }

  expect_failures = [var.gateway]
}

run "data_vm" {
  command = plan

  variables {
    vllm = null
    data = {
      db_password    = "dbpassword0123456789"
      redis_password = "redispassword0123456789"
    }
  }

  assert {
    condition     = output.gateway == null && output.vllm == null && startswith(output.data, "#cloud-config\n")
    error_message = "Only the data VM's cloud-config is rendered."
  }
  assert {
    condition     = alltrue([for p in ["mariadb-server", "redis-server"] : contains(yamldecode(output.data).packages, p)])
    error_message = "The data VM runs MariaDB and Redis."
  }
  assert {
    condition = [for f in yamldecode(output.data).write_files : f if f.path == "/etc/inference-gateway/redis.conf"][0].permissions == "0600" && strcontains(
      [for f in yamldecode(output.data).write_files : f.content if f.path == "/etc/inference-gateway/redis.conf"][0],
      "bind 0.0.0.0\nprotected-mode yes\nrequirepass redispassword0123456789\n",
    )
    error_message = "Redis listens on the private network with a password, kept in a root-only file."
  }
  assert {
    condition     = strcontains([for f in yamldecode(output.data).write_files : f.content if f.path == "/etc/mysql/mariadb.conf.d/60-inference-gateway.cnf"][0], "[mysqld]\nbind-address = 0.0.0.0\n")
    error_message = "MariaDB listens on the private network."
  }
  assert {
    condition = alltrue([
      for s in ["CREATE USER IF NOT EXISTS 'gateway'@'%' IDENTIFIED BY 'dbpassword0123456789'", "GRANT ALL PRIVILEGES ON `inference_gateway`.* TO 'gateway'@'%'"] :
      strcontains([for f in yamldecode(output.data).write_files : f.content if f.path == "/etc/inference-gateway/db-setup.sql"][0], s)
    ])
    error_message = "The gateways' database user may connect from the private network."
  }
  assert {
    condition = alltrue([
      for s in ["include $include", "install -o redis -g redis -m 0640", "db-setup.sql"] :
      strcontains([for f in yamldecode(output.data).write_files : f.content if f.path == "/usr/local/sbin/data-setup.sh"][0], s)
    ]) && yamldecode(output.data).runcmd == [["/usr/local/sbin/data-setup.sh"]]
    error_message = "data-setup.sh configures Redis (password), restarts both and creates the database."
  }
}

run "data_vm_rejects_weak_password" {
  command = plan

  variables {
    vllm = null
    data = {
      db_password    = "short"
      redis_password = "redispassword0123456789"
    }
  }

  expect_failures = [var.data]
}
