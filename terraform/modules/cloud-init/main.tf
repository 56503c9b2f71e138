locals {
  # Single-quote a value for bash: 'it'\''s'.
  vllm_quoted = var.vllm == null ? null : {
    model     = "'${replace(var.vllm.model, "'", "'\\''")}'"
    image     = "'${replace(var.vllm.image, "'", "'\\''")}'"
    cache_dir = "'${var.vllm.hf_cache_dir}'"
    args      = [for a in var.vllm.args : "'${replace(a, "'", "'\\''")}'"]
  }

  # vLLM reads VLLM_API_KEY like --api-key; from the env file the key never
  # shows on a command line (ps, the run script, vllm.json).
  vllm_env = var.vllm == null ? null : join("", [
    "# Environment of the vLLM container (docker --env-file).\n",
    var.vllm.api_key == "" ? "" : "VLLM_API_KEY=${var.vllm.api_key}\n",
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
        # What this VM serves, for people and tools that log in (no secrets).
        path        = "/etc/vllm/vllm.json"
        owner       = "root:root"
        permissions = "0644"
        content = jsonencode({
          model   = var.vllm.model
          port    = var.vllm.port
          args    = var.vllm.args
          image   = var.vllm.image
          api_key = var.vllm.api_key == "" ? "none" : "VLLM_API_KEY in /etc/vllm/vllm.env"
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
          model   = var.vllm.model
          image   = var.vllm.image
          api_key = var.vllm.api_key != ""
        })
      },
    ]
    runcmd = [
      ["/usr/local/sbin/ensure-gpu-docker.sh"],
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "--now", "vllm.service"],
    ]
  }
}

# ------------------------------------------------------------------ gateway

locals {
  tls_dir = "/etc/inference-gateway/tls"
  # SIGKILL comes this long after the drain: closing pools, flushing the usage journal, JVM exit.
  stop_margin_seconds = 30

  gateway_settings = var.gateway == null ? null : {
    # MariaDB and Redis on this VM, or on the data VM at data_host.
    local_data = var.gateway.data_host == ""
    tls        = var.gateway.tls_cert_pem != ""
    db_host    = var.gateway.data_host == "" ? "127.0.0.1" : var.gateway.data_host
    redis_url  = var.gateway.data_host == "" ? "redis://127.0.0.1:6379" : "redis://:${var.gateway.redis_password}@${var.gateway.data_host}:6379"
  }

  gateway_env = var.gateway == null ? null : join("", [
    for k, v in {
      HTTP_PORT              = tostring(var.gateway.http_port)
      ADMIN_API_KEY          = var.gateway.admin_api_key
      SECRETS_KEY            = var.gateway.secrets_key
      METRICS_TOKEN          = var.gateway.metrics_token
      APP_PASSWORD           = var.gateway.app_password
      DATABASE_URL           = "mysql://${var.gateway.db_user}:${var.gateway.db_password}@${local.gateway_settings.db_host}:3306/${var.gateway.db_name}"
      REDIS_URL              = local.gateway_settings.redis_url
      HYPERSTACK_API_KEY     = var.gateway.hyperstack_api_key
      TLS_CERT_FILE          = local.gateway_settings.tls ? "${local.tls_dir}/cert.pem" : ""
      TLS_KEY_FILE           = local.gateway_settings.tls ? "${local.tls_dir}/key.pem" : ""
      SHUTDOWN_DRAIN_SECONDS = tostring(var.gateway.drain_seconds)
      # Several gateways sit behind a load balancer: every connection comes from its address.
      HTTP_MAX_CONNECTIONS_PER_ADDRESS = var.gateway.cluster ? "0" : ""
      # Hazelcast listens on CLUSTER_PORT, the clustered event bus on CLUSTER_PORT + 1.
      CLUSTER_PORT = var.gateway.cluster ? tostring(var.gateway.cluster_port) : ""
    } : "${k}=${v}\n" if v != ""
  ])

  # Replica API keys are in here: root-only.
  gateway_models = var.gateway == null ? null : [
    for name in sort(keys(var.gateway.models)) : {
      name = name
      replicas = [
        for endpoint in distinct([for r in var.gateway.models[name] : r.endpoint]) : {
          endpoint = endpoint
          api_key  = [for r in var.gateway.models[name] : r.api_key if r.endpoint == endpoint][0]
        }
      ]
    }
  ]

  gateway_unit = var.gateway == null ? null : templatefile("${path.module}/templates/inference-gateway.service.tftpl", {
    local_data    = local.gateway_settings.local_data
    cluster       = var.gateway.cluster
    drain_seconds = var.gateway.drain_seconds
    stop_margin   = local.stop_margin_seconds
    start_timeout = 480
  })

  gateway_files = var.gateway == null ? null : concat(
    [
      {
        path        = "/etc/inference-gateway/gateway.env"
        owner       = "root:root"
        permissions = "0600"
        content     = local.gateway_env
      },
    ],
    local.gateway_settings.local_data ? [
      {
        path        = "/etc/inference-gateway/db-setup.sql"
        owner       = "root:root"
        permissions = "0600"
        content = templatefile("${path.module}/templates/db-setup.sql.tftpl", {
          db_name     = var.gateway.db_name
          db_user     = var.gateway.db_user
          db_password = var.gateway.db_password
          hosts       = ["localhost", "127.0.0.1"]
        })
      },
    ] : [],
    [
      {
        path        = "/etc/inference-gateway/models.json"
        owner       = "root:root"
        permissions = "0600"
        content     = jsonencode(local.gateway_models)
      },
      {
        path        = "/usr/local/sbin/inference-gateway-prepare.sh"
        owner       = "root:root"
        permissions = "0755"
        content     = file("${path.module}/files/inference-gateway-prepare.sh")
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
        path        = "/usr/local/sbin/inference-gateway-health.sh"
        owner       = "root:root"
        permissions = "0755"
        content     = file("${path.module}/files/inference-gateway-health.sh")
      },
      {
        path        = "/usr/local/sbin/inference-gateway-register.sh"
        owner       = "root:root"
        permissions = "0755"
        content     = file("${path.module}/files/inference-gateway-register.sh")
      },
    ],
    var.gateway.cluster ? [
      {
        path        = "/usr/local/sbin/inference-gateway-cluster.sh"
        owner       = "root:root"
        permissions = "0755"
        content     = file("${path.module}/files/inference-gateway-cluster.sh")
      },
    ] : [],
    [
      {
        path        = "/etc/systemd/system/inference-gateway.service"
        owner       = "root:root"
        permissions = "0644"
        content     = local.gateway_unit
      },
      {
        path        = "/etc/systemd/system/inference-gateway-register.service"
        owner       = "root:root"
        permissions = "0644"
        content     = file("${path.module}/files/inference-gateway-register.service")
      },
      {
        path        = "/etc/systemd/system/inference-gateway-health.service"
        owner       = "root:root"
        permissions = "0644"
        content     = file("${path.module}/files/inference-gateway-health.service")
      },
      {
        path        = "/etc/systemd/system/inference-gateway-health.timer"
        owner       = "root:root"
        permissions = "0644"
        content     = file("${path.module}/files/inference-gateway-health.timer")
      },
    ],
  )

  # Written root-only; inference-gateway-prepare.sh gives the key to the
  # gateway's group once that group exists.
  gateway_tls_files = var.gateway == null ? null : local.gateway_settings.tls ? [
    {
      path        = "${local.tls_dir}/cert.pem"
      owner       = "root:root"
      permissions = "0644"
      content     = var.gateway.tls_cert_pem
    },
    {
      path        = "${local.tls_dir}/key.pem"
      owner       = "root:root"
      permissions = "0600"
      content     = var.gateway.tls_key_pem
    },
  ] : []

  gateway_cloud_config = var.gateway == null ? null : {
    package_update = true
    packages = concat(
      ["ca-certificates", "curl", "jq", "openjdk-17-jre-headless"],
      # The MariaDB client is also what backups (mysqldump) need; redis-cli is
      # what the cluster membership script talks to Redis with.
      local.gateway_settings.local_data ? ["mariadb-server", "redis-server"] : ["mariadb-client", "redis-tools"],
    )
    write_files = concat(local.gateway_files, local.gateway_tls_files)
    runcmd = concat(
      [["/usr/local/sbin/inference-gateway-prepare.sh"]],
      local.gateway_settings.local_data ? [
        ["systemctl", "enable", "--now", "mariadb.service", "redis-server.service"],
        ["sh", "-c", "mysql --protocol=socket -u root < /etc/inference-gateway/db-setup.sql"],
      ] : [],
      [
        ["/usr/local/sbin/inference-gateway-install.sh"],
        ["systemctl", "daemon-reload"],
        ["systemctl", "enable", "inference-gateway.service", "inference-gateway-register.service"],
        ["systemctl", "enable", "--now", "inference-gateway-health.timer"],
        # --no-block: starting waits for /health/live, which can take minutes
        # (the data VM may still be installing); cloud-init need not wait.
        ["systemctl", "start", "--no-block", "inference-gateway.service"],
        ["systemctl", "start", "--no-block", "inference-gateway-register.service"],
      ],
    )
  }

  # What replaces a gateway VM: everything but the TLS material, which can be
  # rotated on the running VMs (see the README) without losing them.
  gateway_replace_config = var.gateway == null ? null : merge(local.gateway_cloud_config, {
    write_files = concat(local.gateway_files, [
      for f in local.gateway_tls_files : merge(f, { content = "(rotated in place, not part of the replacement hash)" })
    ])
  })
}

# ------------------------------------------------------------------ data VM

locals {
  data_cloud_config = var.data == null ? null : {
    package_update = true
    packages       = ["ca-certificates", "mariadb-server", "redis-server"]
    write_files = [
      {
        # Read after Ubuntu's 50-server.cnf (bind-address 127.0.0.1).
        path        = "/etc/mysql/mariadb.conf.d/60-inference-gateway.cnf"
        owner       = "root:root"
        permissions = "0644"
        content     = "# The gateways connect over the private network; the firewall opens 3306 to them only.\n[mysqld]\nbind-address = 0.0.0.0\n"
      },
      {
        # Copied to /etc/redis/inference-gateway.conf (owned by redis) by data-setup.sh.
        path        = "/etc/inference-gateway/redis.conf"
        owner       = "root:root"
        permissions = "0600"
        content     = "# The gateways connect over the private network; the firewall opens 6379 to them only.\nbind 0.0.0.0\nprotected-mode yes\nrequirepass ${var.data.redis_password}\n"
      },
      {
        path        = "/etc/inference-gateway/db-setup.sql"
        owner       = "root:root"
        permissions = "0600"
        content = templatefile("${path.module}/templates/db-setup.sql.tftpl", {
          db_name     = var.data.db_name
          db_user     = var.data.db_user
          db_password = var.data.db_password
          # Any host: only the gateways' private addresses get through the firewall.
          hosts = ["%"]
        })
      },
      {
        path        = "/usr/local/sbin/data-setup.sh"
        owner       = "root:root"
        permissions = "0755"
        content     = file("${path.module}/files/data-setup.sh")
      },
    ]
    runcmd = [
      ["/usr/local/sbin/data-setup.sh"],
    ]
  }
}
