variable "vllm" {
  description = "Settings of one vLLM inference server. Leave null when only the gateway's cloud-config is wanted."
  type = object({
    model        = string
    port         = optional(number, 8000)
    args         = optional(list(string), [])
    image        = optional(string, "vllm/vllm-openai:v0.8.5")
    hf_cache_dir = optional(string, "/ephemeral/hf-cache")
    # vLLM's --api-key (as VLLM_API_KEY); empty: /v1 open to whoever reaches the port.
    api_key = optional(string, "")
  })
  default = null

  validation {
    condition     = var.vllm == null ? true : length(trimspace(var.vllm.model)) > 0 && !strcontains(var.vllm.model, " ")
    error_message = "vllm.model must be a non-empty Hugging Face model id without spaces."
  }
  validation {
    condition     = var.vllm == null ? true : var.vllm.port >= 1 && var.vllm.port <= 65535 && floor(var.vllm.port) == var.vllm.port
    error_message = "vllm.port must be an integer between 1 and 65535."
  }
  validation {
    condition     = var.vllm == null ? true : can(regex("^/[A-Za-z0-9._/-]+$", var.vllm.hf_cache_dir))
    error_message = "vllm.hf_cache_dir must be an absolute path made of letters, digits, '.', '_', '-' and '/'."
  }
  validation {
    condition     = var.vllm == null ? true : alltrue([for a in var.vllm.args : !strcontains(a, "\n")])
    error_message = "vllm.args must not contain newlines."
  }
  validation {
    condition     = var.vllm == null ? true : can(regex("^([A-Za-z0-9._~+/=-]{16,})?$", var.vllm.api_key))
    error_message = "vllm.api_key must be empty or at least 16 characters from [A-Za-z0-9._~+/=-]."
  }
  validation {
    condition     = var.vllm == null ? true : !contains(var.vllm.args, "--api-key")
    error_message = "Set vllm.api_key instead of passing --api-key in vllm.args (an argument shows in ps)."
  }
}

variable "hf_token" {
  description = "Optional Hugging Face token, passed to the vLLM container as HUGGING_FACE_HUB_TOKEN and HF_TOKEN."
  type        = string
  default     = ""
  sensitive   = true
}

variable "gateway" {
  description = <<-EOT
    Settings of a gateway VM. Leave null when only another cloud-config is wanted.
    `models` maps a model name to the replicas registered at boot (endpoint and
    the API key its vLLM requires). `data_host` empty: MariaDB and Redis run on
    this VM; otherwise they are on the data VM at that private address (Redis
    with `redis_password`). `cluster`: several gateways form one cluster (needs
    `data_host`: the members find each other through the shared Redis).
    `tls_cert_pem`/`tls_key_pem`: the gateway serves HTTPS with them.
  EOT
  type = object({
    jar_url            = string
    jar_sha256         = optional(string, "")
    http_port          = optional(number, 5001)
    admin_api_key      = string
    secrets_key        = optional(string, "")
    metrics_token      = optional(string, "")
    app_password       = string
    db_name            = optional(string, "inference_gateway")
    db_user            = optional(string, "gateway")
    db_password        = string
    data_host          = optional(string, "")
    redis_password     = optional(string, "")
    hyperstack_api_key = optional(string, "")
    tls_cert_pem       = optional(string, "")
    tls_key_pem        = optional(string, "")
    cluster            = optional(bool, false)
    cluster_port       = optional(number, 5701)
    drain_seconds      = optional(number, 30)
    models = map(list(object({
      endpoint = string
      api_key  = optional(string, "")
    })))
  })
  default   = null
  sensitive = true

  validation {
    condition     = var.gateway == null ? true : can(regex("^https?://[^\\s'\"]+$", var.gateway.jar_url))
    error_message = "gateway.jar_url must be an http(s) URL without spaces or quotes."
  }
  validation {
    condition     = var.gateway == null ? true : can(regex("^([0-9a-fA-F]{64})?$", var.gateway.jar_sha256))
    error_message = "gateway.jar_sha256 must be empty or 64 hexadecimal characters."
  }
  validation {
    condition     = var.gateway == null ? true : var.gateway.http_port >= 1 && var.gateway.http_port <= 65535 && floor(var.gateway.http_port) == var.gateway.http_port
    error_message = "gateway.http_port must be an integer between 1 and 65535."
  }
  validation {
    condition     = var.gateway == null ? true : can(regex("^[a-z_][a-z0-9_]{0,31}$", var.gateway.db_name)) && can(regex("^[a-z_][a-z0-9_]{0,31}$", var.gateway.db_user))
    error_message = "gateway.db_name and gateway.db_user must be lower-case identifiers ([a-z_][a-z0-9_]*, at most 32 characters)."
  }
  validation {
    condition     = var.gateway == null ? true : can(regex("^[A-Za-z0-9]{16,}$", var.gateway.db_password))
    error_message = "gateway.db_password must be at least 16 letters or digits."
  }
  validation {
    condition = var.gateway == null ? true : alltrue([
      for s in [var.gateway.admin_api_key, var.gateway.app_password] : can(regex("^[A-Za-z0-9._~+/=-]{16,}$", s))
    ])
    error_message = "gateway.admin_api_key and gateway.app_password must be at least 16 characters from [A-Za-z0-9._~+/=-]."
  }
  validation {
    condition = var.gateway == null ? true : alltrue([
      for s in [var.gateway.secrets_key, var.gateway.metrics_token] : can(regex("^([A-Za-z0-9._~+/=-]{16,})?$", s))
    ])
    error_message = "gateway.secrets_key and gateway.metrics_token are empty or at least 16 characters from [A-Za-z0-9._~+/=-]."
  }
  validation {
    condition     = var.gateway == null ? true : can(regex("^[A-Za-z0-9._~+/=-]*$", var.gateway.hyperstack_api_key))
    error_message = "gateway.hyperstack_api_key may only contain [A-Za-z0-9._~+/=-]."
  }
  validation {
    condition = var.gateway == null ? true : (
      var.gateway.data_host == "" ? var.gateway.redis_password == "" : (
        can(regex("^[A-Za-z0-9.-]+$", var.gateway.data_host)) && can(regex("^[A-Za-z0-9]{16,}$", var.gateway.redis_password))
      )
    )
    error_message = "gateway.data_host must be a host name or IPv4 address, and comes with a redis_password of at least 16 letters or digits (none without data_host)."
  }
  validation {
    condition     = var.gateway == null ? true : !var.gateway.cluster || var.gateway.data_host != ""
    error_message = "gateway.cluster needs gateway.data_host: the members share its MariaDB and Redis and find each other through Redis."
  }
  validation {
    condition     = var.gateway == null ? true : var.gateway.cluster_port >= 1024 && var.gateway.cluster_port <= 65534 && floor(var.gateway.cluster_port) == var.gateway.cluster_port && var.gateway.cluster_port != var.gateway.http_port && var.gateway.cluster_port + 1 != var.gateway.http_port
    error_message = "gateway.cluster_port must be an integer from 1024 to 65534; it and cluster_port + 1 (the event bus) must differ from http_port."
  }
  validation {
    condition     = var.gateway == null ? true : var.gateway.drain_seconds >= 0 && var.gateway.drain_seconds <= 3600 && floor(var.gateway.drain_seconds) == var.gateway.drain_seconds
    error_message = "gateway.drain_seconds must be an integer from 0 to 3600."
  }
  validation {
    condition = var.gateway == null ? true : (
      (var.gateway.tls_cert_pem == "") == (var.gateway.tls_key_pem == "") &&
      (var.gateway.tls_cert_pem == "" || (strcontains(var.gateway.tls_cert_pem, "-----BEGIN CERTIFICATE-----") && can(regex("-----BEGIN [A-Z ]*PRIVATE KEY-----", var.gateway.tls_key_pem))))
    )
    error_message = "gateway.tls_cert_pem and gateway.tls_key_pem go together: a PEM certificate (chain) and a PEM private key, or both empty."
  }
  validation {
    condition = var.gateway == null ? true : alltrue(flatten([
      for name, replicas in var.gateway.models : concat(
        [length(trimspace(name)) > 0],
        [for r in replicas : can(regex("^https?://[^\\s/]+(:[0-9]+)?$", r.endpoint)) && can(regex("^([A-Za-z0-9._~+/=-]{16,})?$", r.api_key))]
      )
    ]))
    error_message = "gateway.models keys must be non-empty model names; every endpoint must look like http://host:port (no path), every api_key be empty or at least 16 characters from [A-Za-z0-9._~+/=-]."
  }
}

variable "data" {
  description = "Settings of the data VM (MariaDB and Redis shared by the gateways on the private network). Leave null when another cloud-config is wanted."
  type = object({
    db_name        = optional(string, "inference_gateway")
    db_user        = optional(string, "gateway")
    db_password    = string
    redis_password = string
  })
  default   = null
  sensitive = true

  validation {
    condition     = var.data == null ? true : can(regex("^[a-z_][a-z0-9_]{0,31}$", var.data.db_name)) && can(regex("^[a-z_][a-z0-9_]{0,31}$", var.data.db_user))
    error_message = "data.db_name and data.db_user must be lower-case identifiers ([a-z_][a-z0-9_]*, at most 32 characters)."
  }
  validation {
    condition     = var.data == null ? true : can(regex("^[A-Za-z0-9]{16,}$", var.data.db_password)) && can(regex("^[A-Za-z0-9]{16,}$", var.data.redis_password))
    error_message = "data.db_password and data.redis_password must be at least 16 letters or digits."
  }
}
