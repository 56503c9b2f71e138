# The replica's key for vLLM's --api-key (VLLM_API_KEY): only the gateway,
# which registers the replica with it, can use /v1. Kept in the state; a new
# one (terraform apply -replace=...) replaces the VM.
resource "random_password" "api_key" {
  length  = 48
  special = false
}

module "cloud_init" {
  source = "../cloud-init"

  vllm = {
    model        = var.model
    port         = var.port
    args         = var.vllm_args
    image        = var.vllm_image
    hf_cache_dir = var.hf_cache_dir
    api_key      = random_password.api_key.result
  }
  hf_token = var.hf_token
}

# The provider cannot update a VM in place. Everything the VM is created from is
# kept here (cloud-init only as a hash), and any change to it replaces the VM.
resource "terraform_data" "vm_spec" {
  input = {
    name             = var.name
    environment_name = var.environment_name
    flavor_name      = var.flavor_name
    image_name       = var.image_name
    key_name         = var.key_name
    user_data_sha256 = nonsensitive(sha256(module.cloud_init.vllm))
  }
}

resource "hyperstack_core_virtual_machine" "this" {
  name               = var.name
  environment_name   = var.environment_name
  flavor_name        = var.flavor_name
  image_name         = var.image_name
  key_name           = var.key_name
  assign_floating_ip = true
  user_data          = module.cloud_init.vllm

  lifecycle {
    replace_triggered_by = [terraform_data.vm_spec]
  }
}

# SSH from the operator's CIDRs only (none: no SSH rule at all). The vLLM
# port is opened by the caller (see the root module): that rule needs the
# gateways' addresses, and the gateways need this VM's address first.
resource "terraform_data" "ssh_rule" {
  for_each = toset(var.ssh_allowed_cidrs)

  input = {
    port             = 22
    remote_ip_prefix = each.value
  }
}

# Security rules cannot be updated in place: a changed rule, or a new VM,
# replaces the rule.
resource "hyperstack_core_virtual_machine_sg_rule" "ssh" {
  for_each = toset(var.ssh_allowed_cidrs)

  virtual_machine_id = hyperstack_core_virtual_machine.this.id
  direction          = "ingress"
  ethertype          = "IPv4"
  protocol           = "tcp"
  port_range_min     = 22
  port_range_max     = 22
  remote_ip_prefix   = each.value

  lifecycle {
    replace_triggered_by = [
      hyperstack_core_virtual_machine.this.id,
      terraform_data.ssh_rule[each.key],
    ]
  }
}
