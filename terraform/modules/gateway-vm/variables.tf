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

variable "models" {
  description = "Model name => replica endpoints (http://host:port) that the gateway registers at boot."
  type        = map(list(string))
}

variable "ssh_allowed_cidr" {
  description = "The only CIDR allowed to reach SSH (port 22)."
  type        = string

  validation {
    condition     = can(cidrhost(var.ssh_allowed_cidr, 0)) && strcontains(var.ssh_allowed_cidr, ".")
    error_message = "ssh_allowed_cidr must be an IPv4 CIDR such as 198.51.100.7/32."
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
