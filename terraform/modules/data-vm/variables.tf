variable "name" {
  description = "Name of the VM (letters, digits and '-')."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9-]{0,62}$", var.name))
    error_message = "name must be 1-63 letters, digits or '-', starting with a letter or digit."
  }
}

variable "environment_name" {
  description = "Hyperstack environment the VM is created in (the gateways' environment: they reach it on the private network)."
  type        = string
}

variable "key_name" {
  description = "Name of an SSH key pair that exists in the environment."
  type        = string
}

variable "flavor_name" {
  description = "Hyperstack flavor of the data VM (CPU only)."
  type        = string
  default     = "n1-cpu-medium"
}

variable "image_name" {
  description = "Hyperstack image of the data VM."
  type        = string
  default     = "Ubuntu Server 22.04 LTS"
}

variable "ssh_allowed_cidrs" {
  description = "IPv4 CIDRs allowed to reach SSH (port 22); empty: no SSH rule."
  type        = list(string)

  validation {
    condition     = alltrue([for c in var.ssh_allowed_cidrs : can(cidrhost(c, 0)) && strcontains(c, ".")]) && length(distinct(var.ssh_allowed_cidrs)) == length(var.ssh_allowed_cidrs)
    error_message = "ssh_allowed_cidrs must be distinct IPv4 CIDRs such as 198.51.100.7/32."
  }
}
