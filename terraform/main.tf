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

  # MariaDB and Redis on a VM of their own when several gateways share them
  # (or when asked, so that gateways can be replaced without losing data).
  use_data_vm = var.gateway_count > 1 || var.dedicated_data_vm

  # TLS material: PEM content, or files read here.
  gateway_tls_cert_pem = var.gateway_tls_cert_file != null ? sensitive(file(var.gateway_tls_cert_file)) : (var.gateway_tls_cert_pem == null ? "" : var.gateway_tls_cert_pem)
  gateway_tls_key_pem  = var.gateway_tls_key_file != null ? sensitive(file(var.gateway_tls_key_file)) : (var.gateway_tls_key_pem == null ? "" : var.gateway_tls_key_pem)
}

# Ordering: the inference VMs and the data VM do not depend on the gateways.
# The gateways' cloud-init lists the replicas' endpoints and keys and the data
# VM's address, so the gateways are created after them. The rules that open
# vLLM and the data VM to the gateways (below) are created last. They live here,
# not in the inference-vm/data-vm modules: anything that reads
# module.inference[...] waits for everything inside that module, so a rule in
# there that needs a gateway's address would make a dependency cycle.
module "inference" {
  source   = "./modules/inference-vm"
  for_each = local.inference_vms

  name              = "${var.name_prefix}-${each.key}"
  environment_name  = local.environment_name
  key_name          = local.key_name
  flavor_name       = each.value.flavor_name
  image_name        = each.value.image_name
  model             = each.value.model
  vllm_args         = each.value.vllm_args
  port              = var.vllm_port
  vllm_image        = var.vllm_image
  hf_cache_dir      = var.hf_cache_dir
  hf_token          = var.hf_token
  ssh_allowed_cidrs = var.ssh_allowed_cidrs
  endpoint_network  = var.replica_network
}

module "data" {
  source = "./modules/data-vm"
  count  = local.use_data_vm ? 1 : 0

  name              = "${var.name_prefix}-data"
  environment_name  = local.environment_name
  key_name          = local.key_name
  flavor_name       = var.data_flavor_name
  image_name        = var.data_image_name
  ssh_allowed_cidrs = var.ssh_allowed_cidrs
}

module "gateway" {
  source = "./modules/gateway-vm"

  name               = "${var.name_prefix}-gateway"
  instance_count     = var.gateway_count
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
  ssh_allowed_cidrs  = var.ssh_allowed_cidrs
  allowed_cidr       = var.gateway_allowed_cidr
  cluster_port       = var.cluster_port
  drain_seconds      = var.gateway_drain_seconds
  tls_cert_pem       = local.gateway_tls_cert_pem
  tls_key_pem        = local.gateway_tls_key_pem

  data = local.use_data_vm ? {
    host           = module.data[0].fixed_ip
    db_password    = module.data[0].db_password
    redis_password = module.data[0].redis_password
  } : null

  models = local.replica_registrations
}

locals {
  # Model id => endpoints of all its replicas (entries serving the same model
  # id are merged into one gateway model).
  models_served = distinct([for vm in local.inference_vms : vm.model])
  replica_endpoints = {
    for model in local.models_served : model => [
      for key, vm in local.inference_vms : module.inference[key].endpoint if vm.model == model
    ]
  }
  # The same with each replica's API key: what the gateways register.
  replica_registrations = {
    for model in local.models_served : model => [
      for key, vm in local.inference_vms : {
        endpoint = module.inference[key].endpoint
        api_key  = module.inference[key].api_key
      } if vm.model == model
    ]
  }

  # The addresses the replicas see the gateways come from.
  gateway_addresses = var.replica_network == "public" ? module.gateway.floating_ips : module.gateway.fixed_ips

  # "<inference VM key>/<gateway index>": the vLLM port of every inference VM
  # is open to each gateway's address (/32), and to nothing else.
  vllm_rules = {
    for pair in setproduct(keys(local.inference_vms), range(var.gateway_count)) : "${pair[0]}/${pair[1]}" => {
      vm      = pair[0]
      gateway = pair[1]
    }
  }

  # "<service>/<gateway index>": MariaDB and Redis on the data VM, open to each
  # gateway's private address only.
  data_ports = { mariadb = 3306, redis = 6379 }
  data_rules = {
    for pair in setproduct(keys(local.data_ports), range(var.gateway_count)) : "${pair[0]}/${pair[1]}" => {
      port    = local.data_ports[pair[0]]
      gateway = pair[1]
    } if local.use_data_vm
  }
}

# Security rules cannot be updated in place: a new gateway address or a new
# VM replaces the rule.
resource "terraform_data" "vllm_rule" {
  for_each = local.vllm_rules

  input = {
    virtual_machine_id = module.inference[each.value.vm].id
    port               = module.inference[each.value.vm].port
    remote_ip_prefix   = "${local.gateway_addresses[each.value.gateway]}/32"
  }
}

resource "hyperstack_core_virtual_machine_sg_rule" "vllm" {
  for_each = local.vllm_rules

  virtual_machine_id = module.inference[each.value.vm].id
  direction          = "ingress"
  ethertype          = "IPv4"
  protocol           = "tcp"
  port_range_min     = module.inference[each.value.vm].port
  port_range_max     = module.inference[each.value.vm].port
  remote_ip_prefix   = "${local.gateway_addresses[each.value.gateway]}/32"

  lifecycle {
    replace_triggered_by = [terraform_data.vllm_rule[each.key]]
  }
}

resource "terraform_data" "data_rule" {
  for_each = local.data_rules

  input = {
    virtual_machine_id = module.data[0].id
    port               = each.value.port
    remote_ip_prefix   = "${module.gateway.fixed_ips[each.value.gateway]}/32"
  }
}

resource "hyperstack_core_virtual_machine_sg_rule" "data" {
  for_each = local.data_rules

  virtual_machine_id = module.data[0].id
  direction          = "ingress"
  ethertype          = "IPv4"
  protocol           = "tcp"
  port_range_min     = each.value.port
  port_range_max     = each.value.port
  remote_ip_prefix   = "${module.gateway.fixed_ips[each.value.gateway]}/32"

  lifecycle {
    replace_triggered_by = [terraform_data.data_rule[each.key]]
  }
}

# A load balancer for the gateways (see conf/lb/ and the README): the same
# template renders conf/lb/haproxy.cfg for two local instances.
locals {
  load_balancer_haproxy_cfg = templatefile("${path.module}/templates/haproxy.cfg.tftpl", {
    bind        = ":443"
    client_tls  = true
    backend_tls = module.gateway.tls
    servers = [
      for i, ip in(var.lb_upstream_network == "public" ? module.gateway.floating_ips : module.gateway.fixed_ips) : {
        name    = "gateway${i}"
        address = "${ip}:${var.gateway_port}"
      }
    ]
  })
}
