resource "random_password" "admin_api_key" {
  length  = 48
  special = false
}

resource "random_password" "app_password" {
  length  = 24
  special = false
}

# The password of the local MariaDB (unused when var.data points at the data VM).
resource "random_password" "db_password" {
  length  = 32
  special = false
}

# Seals replica API keys and the console session secret at rest (SECRETS_KEY);
# without it the gateway derives one from ADMIN_API_KEY and warns.
resource "random_password" "secrets_key" {
  length  = 48
  special = false
}

# Bearer token for Prometheus scraping /metrics (METRICS_TOKEN), so the
# scraper does not need the admin key.
resource "random_password" "metrics_token" {
  length  = 40
  special = false
}

locals {
  admin_api_key = coalesce(var.admin_api_key, random_password.admin_api_key.result)
  app_password  = coalesce(var.app_password, random_password.app_password.result)
  # Several gateways form one cluster (Hazelcast on cluster_port, the event bus
  # on cluster_port + 1) and share the data VM's MariaDB and Redis.
  cluster = var.instance_count > 1
  names   = [for i in range(var.instance_count) : var.instance_count == 1 ? var.name : "${var.name}-${i}"]
  tls     = nonsensitive(var.tls_cert_pem != "")
}

# One cloud-config for all gateways: each finds its own private address and
# the other members at boot (see inference-gateway-cluster.sh).
module "cloud_init" {
  source = "../cloud-init"

  gateway = {
    jar_url            = var.jar_url
    jar_sha256         = var.jar_sha256
    http_port          = var.http_port
    admin_api_key      = local.admin_api_key
    secrets_key        = random_password.secrets_key.result
    metrics_token      = random_password.metrics_token.result
    app_password       = local.app_password
    db_password        = var.data == null ? random_password.db_password.result : var.data.db_password
    data_host          = var.data == null ? "" : var.data.host
    redis_password     = var.data == null ? "" : var.data.redis_password
    hyperstack_api_key = var.hyperstack_api_key
    tls_cert_pem       = var.tls_cert_pem
    tls_key_pem        = var.tls_key_pem
    cluster            = local.cluster
    cluster_port       = var.cluster_port
    drain_seconds      = var.drain_seconds
    models             = var.models
  }
}

# The provider cannot update a VM in place. Everything a VM is created from is
# kept here (cloud-init only as a hash, without the TLS certificate and key),
# and any change to it replaces the VM. A new certificate does not: it is
# rotated on the running VMs (see the README) and only used by VMs created later.
resource "terraform_data" "vm_spec" {
  count = var.instance_count

  input = {
    name             = local.names[count.index]
    environment_name = var.environment_name
    flavor_name      = var.flavor_name
    image_name       = var.image_name
    key_name         = var.key_name
    user_data_sha256 = nonsensitive(module.cloud_init.gateway_replace_hash)
  }
}

resource "hyperstack_core_virtual_machine" "this" {
  count = var.instance_count

  name               = local.names[count.index]
  environment_name   = var.environment_name
  flavor_name        = var.flavor_name
  image_name         = var.image_name
  key_name           = var.key_name
  assign_floating_ip = true
  user_data          = module.cloud_init.gateway

  lifecycle {
    ignore_changes       = [user_data]
    replace_triggered_by = [terraform_data.vm_spec[count.index]]
  }
}

locals {
  # "<vm index>/<what>" => rule. SSH from the operator's CIDRs, the gateway
  # port from allowed_cidr, and between cluster members (each other's private
  # address only) Hazelcast and the event bus: cluster_port..cluster_port + 1.
  firewall_rules = merge(
    {
      for pair in setproduct(range(var.instance_count), var.ssh_allowed_cidrs) : "${pair[0]}/ssh/${pair[1]}" => {
        vm               = pair[0]
        port_min         = 22
        port_max         = 22
        remote_ip_prefix = pair[1]
      }
    },
    {
      for i in range(var.instance_count) : "${i}/gateway" => {
        vm               = i
        port_min         = var.http_port
        port_max         = var.http_port
        remote_ip_prefix = var.allowed_cidr
      }
    },
    {
      for pair in setproduct(range(var.instance_count), range(var.instance_count)) : "${pair[0]}/cluster/${pair[1]}" => {
        vm               = pair[0]
        port_min         = var.cluster_port
        port_max         = var.cluster_port + 1
        remote_ip_prefix = "${hyperstack_core_virtual_machine.this[pair[1]].fixed_ip}/32"
      } if local.cluster && pair[0] != pair[1]
    },
  )
}

# Security rules cannot be updated in place either: a changed rule, or a new
# VM (its id is in the input), replaces the rule.
resource "terraform_data" "firewall_rule" {
  for_each = local.firewall_rules

  input = merge(each.value, { virtual_machine_id = hyperstack_core_virtual_machine.this[each.value.vm].id })
}

resource "hyperstack_core_virtual_machine_sg_rule" "this" {
  for_each = local.firewall_rules

  virtual_machine_id = hyperstack_core_virtual_machine.this[each.value.vm].id
  direction          = "ingress"
  ethertype          = "IPv4"
  protocol           = "tcp"
  port_range_min     = each.value.port_min
  port_range_max     = each.value.port_max
  remote_ip_prefix   = each.value.remote_ip_prefix

  lifecycle {
    replace_triggered_by = [terraform_data.firewall_rule[each.key]]
  }
}
