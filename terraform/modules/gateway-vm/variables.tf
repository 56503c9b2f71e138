variable "name" {
  description = "Name of the VM (letters, digits and '-')."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9-]{0,62}$", var.name))
    error_message = "name must be 1-63 letters, digits or '-', starting with a letter or digit."
  }
}

variable "environment_name" {
  description = "Hyperstack environment the VM is created in."
  type        = string
}

variable "key_name" {
  description = "Name of an SSH key pair that exists in the environment."
  type        = string
}

variable "flavor_name" {
  description = "Hyperstack flavor of the gateway VM (CPU only)."
  type        = string
  default     = "n1-cpu-medium"
}

variable "image_name" {
  description = "Hyperstack image of the gateway VM."
  type        = string
  default     = "Ubuntu Server 22.04 LTS"
}

variable "jar_url" {
  description = "Where cloud-init downloads inference-gateway.jar from, e.g. a GitHub release asset URL."
  type        = string
}

variable "jar_sha256" {
  description = "SHA-256 of the jar; when set, the download is verified and a mismatch stops the install."
  type        = string
  default     = ""
}

variable "http_port" {
  description = "Port the gateway listens on (HTTP_PORT)."
  type        = number
  default     = 5001

  validation {
    condition     = var.http_port >= 1 && var.http_port <= 65535 && floor(var.http_port) == var.http_port
    error_message = "http_port must be an integer between 1 and 65535."
  }
}

variable "admin_api_key" {
  description = "ADMIN_API_KEY of the gateway; generated when null."
  type        = string
  default     = null
  sensitive   = true
}

variable "app_password" {
  description = "APP_PASSWORD (console password) of the gateway; generated when null."
  type        = string
  default     = null
  sensitive   = true
}

variable "hyperstack_api_key" {
  description = "Optional HYPERSTACK_API_KEY handed to the gateway; left out of its environment when empty."
  type        = string
  default     = ""
  sensitive   = true
}

variable "instance_count" {
  description = "Number of gateway VMs. More than one form a cluster and need `data` (a shared MariaDB and Redis)."
  type        = number
  default     = 1

  validation {
    condition     = var.instance_count >= 1 && var.instance_count <= 10 && floor(var.instance_count) == var.instance_count
    error_message = "instance_count must be an integer from 1 to 10."
  }
}

variable "data" {
  description = "The data VM (MariaDB on 3306, Redis on 6379 with a password) at its private address; null: MariaDB and Redis run on the gateway VM itself (one gateway only)."
  type = object({
    host           = string
    db_password    = string
    redis_password = string
  })
  default   = null
  sensitive = true
}

variable "cluster_port" {
  description = "Hazelcast port of cluster members (CLUSTER_PORT); the clustered event bus uses cluster_port + 1. Both are open between the gateway VMs only."
  type        = number
  default     = 5701
}

variable "tls_cert_pem" {
  description = "PEM certificate (chain) the gateways serve HTTPS with; empty: plain HTTP."
  type        = string
  default     = ""
  sensitive   = true
}

variable "tls_key_pem" {
  description = "PEM private key of tls_cert_pem."
  type        = string
  default     = ""
  sensitive   = true
}

variable "drain_seconds" {
  description = "How long the gateway lets in-flight requests finish on stop (SHUTDOWN_DRAIN_SECONDS); systemd waits this plus a margin before SIGKILL."
  type        = number
  default     = 30
}

variable "models" {
  description = "Model name => replicas (endpoint http://host:port and the API key its vLLM requires) that the gateways register at boot."
  type = map(list(object({
    endpoint = string
    api_key  = optional(string, "")
  })))
}

variable "ssh_allowed_cidrs" {
  description = "IPv4 CIDRs allowed to reach SSH (port 22); empty: no SSH rule."
  type        = list(string)

  validation {
    condition     = alltrue([for c in var.ssh_allowed_cidrs : can(cidrhost(c, 0)) && strcontains(c, ".")]) && length(distinct(var.ssh_allowed_cidrs)) == length(var.ssh_allowed_cidrs)
    error_message = "ssh_allowed_cidrs must be distinct IPv4 CIDRs such as 198.51.100.7/32."
  }
}

variable "allowed_cidr" {
  description = "CIDR allowed to reach the gateway's port (the OpenAI API and the console)."
  type        = string
  default     = "0.0.0.0/0"

  validation {
    condition     = can(cidrhost(var.allowed_cidr, 0)) && strcontains(var.allowed_cidr, ".")
    error_message = "allowed_cidr must be an IPv4 CIDR such as 0.0.0.0/0."
  }
}
