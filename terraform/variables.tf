variable "name_prefix" {
  description = "Prefix of every VM name: <prefix>-gateway, <prefix>-<model key>-<replica>."
  type        = string
  default     = "llm"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,30}$", var.name_prefix))
    error_message = "name_prefix must be 1-31 lower-case letters, digits or '-'."
  }
}

variable "environment_name" {
  description = "Hyperstack environment for all VMs. It must exist, unless region is set (then it is created)."
  type        = string
}

variable "region" {
  description = "When set (e.g. CANADA-1), the environment is created in this region; when null, environment_name must already exist."
  type        = string
  default     = null
}

variable "key_name" {
  description = "SSH key pair for all VMs. It must exist in the environment, unless ssh_public_key is set (then it is created)."
  type        = string
}

variable "ssh_public_key" {
  description = "When set, a key pair named key_name is created from this public key."
  type        = string
  default     = null
}

variable "ssh_allowed_cidrs" {
  description = <<-EOT
    The IPv4 CIDRs allowed to reach SSH (port 22) on every VM, e.g. ["198.51.100.7/32"].
    Required on purpose: [] opens SSH nowhere, and 0.0.0.0/0 is opened only when listed here.
  EOT
  type        = list(string)

  validation {
    condition     = alltrue([for c in var.ssh_allowed_cidrs : can(cidrhost(c, 0)) && strcontains(c, ".")]) && length(distinct(var.ssh_allowed_cidrs)) == length(var.ssh_allowed_cidrs)
    error_message = "ssh_allowed_cidrs must be distinct IPv4 CIDRs such as 198.51.100.7/32 ([] for no SSH)."
  }
}

variable "gateway_allowed_cidr" {
  description = "CIDR allowed to reach the gateway port (OpenAI API and console); behind a load balancer, its address as /32."
  type        = string
  default     = "0.0.0.0/0"
}

variable "gateway_count" {
  description = "Number of gateway VMs. More than one form a cluster (Hazelcast) behind a load balancer and share the data VM's MariaDB and Redis."
  type        = number
  default     = 1

  validation {
    condition     = var.gateway_count >= 1 && var.gateway_count <= 10 && floor(var.gateway_count) == var.gateway_count
    error_message = "gateway_count must be an integer from 1 to 10."
  }
}

variable "dedicated_data_vm" {
  description = "Run MariaDB and Redis on a data VM of their own even with one gateway (always so with several), so that a replaced gateway keeps its data."
  type        = bool
  default     = false
}

variable "data_flavor_name" {
  description = "Flavor of the data VM."
  type        = string
  default     = "n1-cpu-medium"
}

variable "data_image_name" {
  description = "Image of the data VM."
  type        = string
  default     = "Ubuntu Server 22.04 LTS"
}

variable "cluster_port" {
  description = "CLUSTER_PORT of the gateways: Hazelcast listens on it, the clustered event bus on cluster_port + 1; both are open between gateway VMs only."
  type        = number
  default     = 5701

  validation {
    condition     = var.cluster_port >= 1024 && var.cluster_port <= 65534 && floor(var.cluster_port) == var.cluster_port
    error_message = "cluster_port must be an integer from 1024 to 65534 (cluster_port + 1 is used too)."
  }
}

variable "gateway_tls_cert_pem" {
  description = "PEM certificate (chain) the gateways serve HTTPS with, e.g. TF_VAR_gateway_tls_cert_pem=\"$(cat fullchain.pem)\". Unset (and no gateway_tls_cert_file): plain HTTP."
  type        = string
  default     = null
  sensitive   = true
}

variable "gateway_tls_key_pem" {
  description = "PEM private key of the certificate (e.g. TF_VAR_gateway_tls_key_pem=\"$(cat privkey.pem)\")."
  type        = string
  default     = null
  sensitive   = true
}

variable "gateway_tls_cert_file" {
  description = "Path of a PEM certificate file on the machine running Terraform; wins over gateway_tls_cert_pem."
  type        = string
  default     = null
}

variable "gateway_tls_key_file" {
  description = "Path of the PEM private key file on the machine running Terraform; wins over gateway_tls_key_pem."
  type        = string
  default     = null
}

variable "gateway_drain_seconds" {
  description = "On stop, how long a gateway lets in-flight requests finish (SHUTDOWN_DRAIN_SECONDS, the gateway's shutdown.drainSeconds); systemd sends SIGKILL only 30 s after that."
  type        = number
  default     = 30

  validation {
    condition     = var.gateway_drain_seconds >= 0 && var.gateway_drain_seconds <= 3600 && floor(var.gateway_drain_seconds) == var.gateway_drain_seconds
    error_message = "gateway_drain_seconds must be an integer from 0 to 3600."
  }
}

variable "lb_upstream_network" {
  description = "Addresses of the gateways in the load_balancer_haproxy_cfg output: \"public\" (floating IPs: a load balancer anywhere) or \"private\" (fixed IPs: a load balancer VM in the same environment)."
  type        = string
  default     = "public"

  validation {
    condition     = contains(["public", "private"], var.lb_upstream_network)
    error_message = "lb_upstream_network must be \"public\" or \"private\"."
  }
}

variable "gateway_flavor_name" {
  description = "Flavor of the gateway VM."
  type        = string
  default     = "n1-cpu-medium"
}

variable "gateway_image_name" {
  description = "Image of the gateway VM."
  type        = string
  default     = "Ubuntu Server 22.04 LTS"
}

variable "gateway_port" {
  description = "Port of the gateway (HTTP_PORT)."
  type        = number
  default     = 5001
}

variable "gateway_jar_url" {
  description = "URL of inference-gateway.jar, e.g. a GitHub release asset."
  type        = string
}

variable "gateway_jar_sha256" {
  description = "SHA-256 of inference-gateway.jar; strongly recommended, the download is verified against it."
  type        = string
  default     = ""
}

variable "admin_api_key" {
  description = "ADMIN_API_KEY of the gateway; generated when null."
  type        = string
  default     = null
  sensitive   = true
}

variable "app_password" {
  description = "Console password (APP_PASSWORD); generated when null."
  type        = string
  default     = null
  sensitive   = true
}

variable "gateway_hyperstack_api_key" {
  description = "HYPERSTACK_API_KEY handed to the gateway (e.g. export TF_VAR_gateway_hyperstack_api_key=$HYPERSTACK_API_KEY); empty leaves it out."
  type        = string
  default     = ""
  sensitive   = true
}

variable "inference_flavor_name" {
  description = "Default flavor of the vLLM VMs (a model entry can override it)."
  type        = string
  default     = "n1-RTX-A6000x1"
}

variable "inference_image_name" {
  description = "Default image of the vLLM VMs (a model entry can override it)."
  type        = string
  default     = "Ubuntu Server 22.04 LTS R535 CUDA 12.2"
}

variable "vllm_image" {
  description = "vLLM container image run on every inference VM."
  type        = string
  default     = "vllm/vllm-openai:v0.8.5"
}

variable "vllm_port" {
  description = "Port vLLM listens on; opened to the gateways only."
  type        = number
  default     = 8000
}

variable "hf_cache_dir" {
  description = "Host directory kept as the Hugging Face cache on every inference VM."
  type        = string
  default     = "/ephemeral/hf-cache"
}

variable "hf_token" {
  description = "Optional Hugging Face token (for gated models)."
  type        = string
  default     = ""
  sensitive   = true
}

variable "replica_network" {
  description = "How the gateways reach vLLM: \"private\" (fixed IPs; the vLLM port open to the gateways' fixed IPs) or \"public\" (floating IPs; open to the gateways' floating IPs)."
  type        = string
  default     = "private"

  validation {
    condition     = contains(["public", "private"], var.replica_network)
    error_message = "replica_network must be \"public\" or \"private\"."
  }
}

variable "models" {
  description = <<-EOT
    The models to serve, keyed by a short name used in VM names. Each entry gets
    `replicas` vLLM VMs; all replicas are registered with the gateway under the
    Hugging Face model id. Add a model by adding an entry; add replicas by raising
    `replicas`.
  EOT
  type = map(object({
    model       = string
    replicas    = optional(number, 1)
    vllm_args   = optional(list(string), [])
    flavor_name = optional(string)
    image_name  = optional(string)
  }))
  default = {
    llama-3-1-8b = {
      model = "NousResearch/Meta-Llama-3.1-8B-Instruct"
      vllm_args = [
        "--gpu-memory-utilization", "0.9",
        "--max-model-len", "15360",
        "--enable-auto-tool-choice",
        "--tool-call-parser", "llama3_json",
        "--chat-template", "/vllm-workspace/examples/tool_chat_template_llama3.1_json.jinja",
      ]
    }
    phi-3-medium = {
      model = "microsoft/Phi-3-medium-128k-instruct"
      vllm_args = [
        "--gpu-memory-utilization", "0.9",
        "--max-model-len", "15360",
      ]
    }
  }

  validation {
    condition     = length(var.models) > 0
    error_message = "models must contain at least one entry."
  }
  validation {
    condition     = alltrue([for k in keys(var.models) : can(regex("^[a-z0-9][a-z0-9-]{0,24}$", k))])
    error_message = "models keys must be 1-25 lower-case letters, digits or '-' (they become part of VM names)."
  }
  validation {
    condition     = alltrue([for m in values(var.models) : m.replicas >= 1 && m.replicas <= 20 && floor(m.replicas) == m.replicas])
    error_message = "replicas must be an integer from 1 to 20."
  }
}
