module "cloud_init" {
  source = "../cloud-init"

  vllm = {
    model        = var.model
    port         = var.port
    args         = var.vllm_args
    image        = var.vllm_image
    hf_cache_dir = var.hf_cache_dir
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

locals {
  firewall_rules = {
    ssh = {
      port             = 22
      remote_ip_prefix = var.ssh_allowed_cidr
    }
    vllm = {
      port             = var.port
      remote_ip_prefix = "${var.gateway_address}/32"
    }
  }
}

# Security rules cannot be updated in place either: a changed rule, or a new
# VM, replaces the rule.
resource "terraform_data" "firewall_rule" {
  for_each = local.firewall_rules

  input = each.value
}

resource "hyperstack_core_virtual_machine_sg_rule" "this" {
  for_each = local.firewall_rules

  virtual_machine_id = hyperstack_core_virtual_machine.this.id
  direction          = "ingress"
  ethertype          = "IPv4"
  protocol           = "tcp"
  port_range_min     = each.value.port
  port_range_max     = each.value.port
  remote_ip_prefix   = each.value.remote_ip_prefix

  lifecycle {
    replace_triggered_by = [
      hyperstack_core_virtual_machine.this.id,
      terraform_data.firewall_rule[each.key],
    ]
  }
}
