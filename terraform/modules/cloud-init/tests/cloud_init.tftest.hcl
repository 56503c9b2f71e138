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
        "NousResearch/Meta-Llama-3.1-8B-Instruct" = ["http://203.0.113.10:8000", "http://203.0.113.11:8000"]
        "microsoft/Phi-3-medium-128k-instruct"    = ["http://203.0.113.12:8000"]
      }
    }
  }

  assert {
    condition     = output.vllm == null
    error_message = "No vLLM cloud-config is rendered when var.vllm is null."
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
      EOT
    }
    error_message = "gateway.env must be 0600 and hold the gateway's environment with local MariaDB and Redis."
  }
  assert {
    condition = jsondecode([for f in yamldecode(output.gateway).write_files : f.content if f.path == "/etc/inference-gateway/models.json"][0]) == [
      { name = "NousResearch/Meta-Llama-3.1-8B-Instruct", endpoints = ["http://203.0.113.10:8000", "http://203.0.113.11:8000"] },
      { name = "microsoft/Phi-3-medium-128k-instruct", endpoints = ["http://203.0.113.12:8000"] },
    ]
    error_message = "models.json must list every model with its replica endpoints."
  }
  assert {
    condition = alltrue([
      for s in ["CREATE DATABASE IF NOT EXISTS `inference_gateway`", "CREATE USER IF NOT EXISTS 'gateway'@'localhost' IDENTIFIED BY 'dbpassword0123456789'",
      "GRANT ALL PRIVILEGES ON `inference_gateway`.* TO 'gateway'@'127.0.0.1'"] :
      strcontains([for f in yamldecode(output.gateway).write_files : f.content if f.path == "/etc/inference-gateway/db-setup.sql"][0], s)
    ])
    error_message = "db-setup.sql must create the database and the user."
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
      for s in ["Restart=always", "EnvironmentFile=/etc/inference-gateway/gateway.env", "ExecStart=/usr/bin/java -jar /opt/inference-gateway/inference-gateway.jar run"] :
      strcontains([for f in yamldecode(output.gateway).write_files : f.content if f.path == "/etc/systemd/system/inference-gateway.service"][0], s)
    ])
    error_message = "The gateway must run as a systemd service that always restarts."
  }
  assert {
    condition = alltrue([
      for s in ["/health", "/api/v1/models", "/replicas", "already exists"] :
      strcontains([for f in yamldecode(output.gateway).write_files : f.content if f.path == "/usr/local/sbin/inference-gateway-register.sh"][0], s)
    ])
    error_message = "The registration script must wait for /health and register models and replicas idempotently."
  }
  assert {
    condition = alltrue([
      for c in [
        ["sh", "-c", "mysql --protocol=socket -u root < /etc/inference-gateway/db-setup.sql"],
        ["/usr/local/sbin/inference-gateway-install.sh"],
        ["systemctl", "enable", "--now", "inference-gateway.service"],
        ["systemctl", "enable", "inference-gateway-register.service"],
      ] : contains(yamldecode(output.gateway).runcmd, c)
    ])
    error_message = "runcmd must set up the database, install the jar and start the services."
  }
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
      models        = { "m" = ["10.0.0.5:8000"] }
    }
  }

  expect_failures = [var.gateway]
}
