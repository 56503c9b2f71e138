resource "random_password" "admin_api_key" {
  length  = 48
  special = false
}

resource "random_password" "app_password" {
  length  = 24
  special = false
}

resource "random_password" "db_password" {
  length  = 32
  special = false
}

locals {
  admin_api_key = coalesce(var.admin_api_key, random_password.admin_api_key.result)
  app_password  = coalesce(var.app_password, random_password.app_password.result)
}

module "cloud_init" {
  source = "../cloud-init"

  gateway = {
    jar_url            = var.jar_url
    jar_sha256         = var.jar_sha256
    http_port          = var.http_port
    admin_api_key      = local.admin_api_key
    app_password       = local.app_password
    db_password        = random_password.db_password.result
    hyperstack_api_key = var.hyperstack_api_key
    models             = var.models
  }
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
    user_data_sha256 = nonsensitive(sha256(module.cloud_init.gateway))
  }
}

resource "hyperstack_core_virtual_machine" "this" {
  name               = var.name
  environment_name   = var.environment_name
  flavor_name        = var.flavor_name
  image_name         = var.image_name
  key_name           = var.key_name
  assign_floating_ip = true
  user_data          = module.cloud_init.gateway

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
    gateway = {
      port             = var.http_port
      remote_ip_prefix = var.allowed_cidr
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
