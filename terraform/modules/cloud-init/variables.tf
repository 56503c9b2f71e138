variable "vllm" {
  description = "Settings of one vLLM inference server. Leave null when only the gateway's cloud-config is wanted."
  type = object({
    model        = string
    port         = optional(number, 8000)
    args         = optional(list(string), [])
    image        = optional(string, "vllm/vllm-openai:v0.8.5")
    hf_cache_dir = optional(string, "/ephemeral/hf-cache")
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
}

variable "hf_token" {
  description = "Optional Hugging Face token, passed to the vLLM container as HUGGING_FACE_HUB_TOKEN and HF_TOKEN."
  type        = string
  default     = ""
  sensitive   = true
}

variable "gateway" {
  description = "Settings of the gateway VM. Leave null when only the vLLM cloud-config is wanted. `models` maps a model name to the replica endpoints registered at boot."
  type = object({
    jar_url            = string
    jar_sha256         = optional(string, "")
    http_port          = optional(number, 5001)
    admin_api_key      = string
    app_password       = string
    db_name            = optional(string, "inference_gateway")
    db_user            = optional(string, "gateway")
    db_password        = string
    hyperstack_api_key = optional(string, "")
    models             = map(list(string))
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
    condition     = var.gateway == null ? true : can(regex("^[A-Za-z0-9._~+/=-]*$", var.gateway.hyperstack_api_key))
    error_message = "gateway.hyperstack_api_key may only contain [A-Za-z0-9._~+/=-]."
  }
  validation {
    condition = var.gateway == null ? true : alltrue(flatten([
      for name, endpoints in var.gateway.models : concat(
        [length(trimspace(name)) > 0],
        [for e in endpoints : can(regex("^https?://[^\\s/]+(:[0-9]+)?$", e))]
      )
    ]))
    error_message = "gateway.models keys must be non-empty model names and every endpoint must look like http://host:port (no path)."
  }
}
