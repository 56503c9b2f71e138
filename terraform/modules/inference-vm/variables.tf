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
  description = "Hyperstack flavor (GPU type and count)."
  type        = string
  default     = "n1-RTX-A6000x1"
}

variable "image_name" {
  description = "Hyperstack image; the default ships the NVIDIA driver and CUDA."
  type        = string
  default     = "Ubuntu Server 22.04 LTS R535 CUDA 12.2"
}

variable "model" {
  description = "Hugging Face model id served by vLLM, e.g. NousResearch/Meta-Llama-3.1-8B-Instruct."
  type        = string
}

variable "vllm_args" {
  description = "Extra command-line arguments for vLLM, one list element per word."
  type        = list(string)
  default     = []
}

variable "port" {
  description = "TCP port vLLM listens on."
  type        = number
  default     = 8000
}

variable "vllm_image" {
  description = "vLLM container image."
  type        = string
  default     = "vllm/vllm-openai:v0.8.5"
}

variable "hf_cache_dir" {
  description = "Host directory mounted as the container's Hugging Face cache, so model downloads survive container restarts and reboots."
  type        = string
  default     = "/ephemeral/hf-cache"
}

variable "hf_token" {
  description = "Optional Hugging Face token for gated models."
  type        = string
  default     = ""
  sensitive   = true
}

variable "ssh_allowed_cidrs" {
  description = "IPv4 CIDRs allowed to reach SSH (port 22); empty: no SSH rule."
  type        = list(string)

  validation {
    condition     = alltrue([for c in var.ssh_allowed_cidrs : can(cidrhost(c, 0)) && strcontains(c, ".")]) && length(distinct(var.ssh_allowed_cidrs)) == length(var.ssh_allowed_cidrs)
    error_message = "ssh_allowed_cidrs must be distinct IPv4 CIDRs such as 198.51.100.7/32."
  }
}

variable "endpoint_network" {
  description = "Which of the VM's addresses the gateway uses to reach vLLM: \"private\" (fixed IP, the default) or \"public\" (floating IP)."
  type        = string
  default     = "private"

  validation {
    condition     = contains(["public", "private"], var.endpoint_network)
    error_message = "endpoint_network must be \"public\" or \"private\"."
  }
}
