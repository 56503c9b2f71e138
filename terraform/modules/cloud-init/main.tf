locals {
  # Single-quote a value for bash: 'it'\''s'.
  vllm_quoted = var.vllm == null ? null : {
    model     = "'${replace(var.vllm.model, "'", "'\\''")}'"
    image     = "'${replace(var.vllm.image, "'", "'\\''")}'"
    cache_dir = "'${var.vllm.hf_cache_dir}'"
    args      = [for a in var.vllm.args : "'${replace(a, "'", "'\\''")}'"]
  }

  vllm_env = join("", [
    "# Environment of the vLLM container (docker --env-file).\n",
    var.hf_token == "" ? "" : "HUGGING_FACE_HUB_TOKEN=${var.hf_token}\nHF_TOKEN=${var.hf_token}\n",
  ])

  vllm_cloud_config = var.vllm == null ? null : {
    package_update = true
    packages       = ["ca-certificates", "curl", "gnupg"]
    write_files = [
      {
        path        = "/etc/vllm/vllm.env"
        owner       = "root:root"
        permissions = "0600"
        content     = local.vllm_env
      },
      {
        # What this VM serves, for people and tools that log in.
        path        = "/etc/vllm/vllm.json"
        owner       = "root:root"
        permissions = "0644"
        content = jsonencode({
          model = var.vllm.model
          port  = var.vllm.port
          args  = var.vllm.args
          image = var.vllm.image
        })
      },
      {
        path        = "/usr/local/sbin/ensure-gpu-docker.sh"
        owner       = "root:root"
        permissions = "0755"
        content     = file("${path.module}/files/ensure-gpu-docker.sh")
      },
      {
        path        = "/usr/local/sbin/vllm-run.sh"
        owner       = "root:root"
        permissions = "0755"
        content = templatefile("${path.module}/templates/vllm-run.sh.tftpl", {
          model     = local.vllm_quoted.model
          image     = local.vllm_quoted.image
          cache_dir = local.vllm_quoted.cache_dir
          port      = var.vllm.port
          args      = local.vllm_quoted.args
        })
      },
      {
        path        = "/etc/systemd/system/vllm.service"
        owner       = "root:root"
        permissions = "0644"
        content = templatefile("${path.module}/templates/vllm.service.tftpl", {
          model = var.vllm.model
          image = var.vllm.image
        })
      },
    ]
    runcmd = [
      ["/usr/local/sbin/ensure-gpu-docker.sh"],
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "--now", "vllm.service"],
    ]
  }

  gateway_env = var.gateway == null ? null : join("", [
    for k, v in {
      HTTP_PORT          = tostring(var.gateway.http_port)
      ADMIN_API_KEY      = var.gateway.admin_api_key
      APP_PASSWORD       = var.gateway.app_password
      DATABASE_URL       = "mysql://${var.gateway.db_user}:${var.gateway.db_password}@127.0.0.1:3306/${var.gateway.db_name}"
      REDIS_URL          = "redis://127.0.0.1:6379"
      HYPERSTACK_API_KEY = var.gateway.hyperstack_api_key
    } : "${k}=${v}\n" if v != ""
  ])

  gateway_models = var.gateway == null ? null : [
    for name in sort(keys(var.gateway.models)) : {
      name      = name
      endpoints = distinct(var.gateway.models[name])
    }
  ]

  gateway_cloud_config = var.gateway == null ? null : {
    package_update = true
    packages       = ["ca-certificates", "curl", "jq", "openjdk-17-jre-headless", "mariadb-server", "redis-server"]
    write_files = [
      {
        path        = "/etc/inference-gateway/gateway.env"
        owner       = "root:root"
        permissions = "0600"
        content     = local.gateway_env
      },
      {
        path        = "/etc/inference-gateway/db-setup.sql"
        owner       = "root:root"
        permissions = "0600"
        content = templatefile("${path.module}/templates/db-setup.sql.tftpl", {
          db_name     = var.gateway.db_name
          db_user     = var.gateway.db_user
          db_password = var.gateway.db_password
        })
      },
      {
        path        = "/etc/inference-gateway/models.json"
        owner       = "root:root"
        permissions = "0644"
        content     = jsonencode(local.gateway_models)
      },
      {
        path        = "/usr/local/sbin/inference-gateway-install.sh"
        owner       = "root:root"
        permissions = "0755"
        content = templatefile("${path.module}/templates/install-gateway.sh.tftpl", {
          url    = "'${var.gateway.jar_url}'"
          sha256 = lower(var.gateway.jar_sha256)
        })
      },
      {
        path        = "/usr/local/sbin/inference-gateway-register.sh"
        owner       = "root:root"
        permissions = "0755"
        content     = file("${path.module}/files/inference-gateway-register.sh")
      },
      {
        path        = "/etc/systemd/system/inference-gateway.service"
        owner       = "root:root"
        permissions = "0644"
        content     = file("${path.module}/files/inference-gateway.service")
      },
      {
        path        = "/etc/systemd/system/inference-gateway-register.service"
        owner       = "root:root"
        permissions = "0644"
        content     = file("${path.module}/files/inference-gateway-register.service")
      },
    ]
    runcmd = [
      ["systemctl", "enable", "--now", "mariadb.service", "redis-server.service"],
      ["sh", "-c", "mysql --protocol=socket -u root < /etc/inference-gateway/db-setup.sql"],
      ["/usr/local/sbin/inference-gateway-install.sh"],
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "--now", "inference-gateway.service"],
      ["systemctl", "enable", "inference-gateway-register.service"],
      ["systemctl", "start", "--no-block", "inference-gateway-register.service"],
    ]
  }
}
