# Optional: create the environment and the key pair instead of using existing ones.
resource "hyperstack_core_environment" "this" {
  count = var.region == null ? 0 : 1

  name   = var.environment_name
  region = var.region
}

resource "hyperstack_core_keypair" "this" {
  count = var.ssh_public_key == null ? 0 : 1

  name        = var.key_name
  environment = local.environment_name
  public_key  = var.ssh_public_key
}

locals {
  environment_name = var.region == null ? var.environment_name : hyperstack_core_environment.this[0].name
  key_name         = var.ssh_public_key == null ? var.key_name : hyperstack_core_keypair.this[0].name

  # One entry per vLLM VM: "<model key>-<replica index>" => settings.
  inference_vms = merge([
    for key, m in var.models : {
      for i in range(m.replicas) : "${key}-${i}" => {
        model_key   = key
        model       = m.model
        vllm_args   = m.vllm_args
        flavor_name = coalesce(m.flavor_name, var.inference_flavor_name)
        image_name  = coalesce(m.image_name, var.inference_image_name)
      }
    }
  ]...)
}

# Ordering: the inference VMs do not depend on the gateway VM. The gateway's
# cloud-init lists their endpoints, so the gateway is created after them. The
# rule that opens the vLLM port to the gateway (below) is created last. It has
# to live outside the inference-vm module: anything that reads
# module.inference[...] waits for everything inside that module, so a rule in
# there that needs the gateway's address would make a dependency cycle.
module "inference" {
  source   = "./modules/inference-vm"
  for_each = local.inference_vms

  name             = "${var.name_prefix}-${each.key}"
  environment_name = local.environment_name
  key_name         = local.key_name
  flavor_name      = each.value.flavor_name
  image_name       = each.value.image_name
  model            = each.value.model
  vllm_args        = each.value.vllm_args
  port             = var.vllm_port
  vllm_image       = var.vllm_image
  hf_cache_dir     = var.hf_cache_dir
  hf_token         = var.hf_token
  ssh_allowed_cidr = var.ssh_allowed_cidr
  endpoint_network = var.replica_network
}

module "gateway" {
  source = "./modules/gateway-vm"

  name               = "${var.name_prefix}-gateway"
  environment_name   = local.environment_name
  key_name           = local.key_name
  flavor_name        = var.gateway_flavor_name
  image_name         = var.gateway_image_name
  jar_url            = var.gateway_jar_url
  jar_sha256         = var.gateway_jar_sha256
  http_port          = var.gateway_port
  admin_api_key      = var.admin_api_key
  app_password       = var.app_password
  hyperstack_api_key = var.gateway_hyperstack_api_key
  ssh_allowed_cidr   = var.ssh_allowed_cidr
  allowed_cidr       = var.gateway_allowed_cidr

  models = local.replica_endpoints
}

locals {
  # Model id => endpoints of all its replicas (entries serving the same model
  # id are merged into one gateway model).
  replica_endpoints = {
    for model in distinct([for vm in local.inference_vms : vm.model]) : model => [
      for key, vm in local.inference_vms : module.inference[key].endpoint if vm.model == model
    ]
  }
}

# The vLLM port of every inference VM is open to the gateway's address only.
locals {
  gateway_address = var.replica_network == "public" ? module.gateway.floating_ip : module.gateway.fixed_ip
}

# Security rules cannot be updated in place: a new gateway address or a new
# VM replaces the rule.
resource "terraform_data" "vllm_rule" {
  for_each = local.inference_vms

  input = {
    virtual_machine_id = module.inference[each.key].id
    port               = module.inference[each.key].port
    remote_ip_prefix   = "${local.gateway_address}/32"
  }
}

resource "hyperstack_core_virtual_machine_sg_rule" "vllm" {
  for_each = local.inference_vms

  virtual_machine_id = module.inference[each.key].id
  direction          = "ingress"
  ethertype          = "IPv4"
  protocol           = "tcp"
  port_range_min     = module.inference[each.key].port
  port_range_max     = module.inference[each.key].port
  remote_ip_prefix   = "${local.gateway_address}/32"

  lifecycle {
    replace_triggered_by = [terraform_data.vllm_rule[each.key]]
  }
}
