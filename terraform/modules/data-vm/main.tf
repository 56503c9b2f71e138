# MariaDB and Redis shared by all gateway VMs, on the private network. The
# ports (3306, 6379) are opened by the caller to the gateways' private
# addresses: those rules need the gateways, which need this VM's address first.
resource "random_password" "db_password" {
  length  = 32
  special = false
}

resource "random_password" "redis_password" {
  length  = 32
  special = false
}

module "cloud_init" {
  source = "../cloud-init"

  data = {
    db_password    = random_password.db_password.result
    redis_password = random_password.redis_password.result
  }
}

# The provider cannot update a VM in place, and replacing this one loses the
# gateways' data. So only its name, environment, flavor, image and key pair
# replace it; a changed cloud-config (new passwords, a newer version of this
# module) does not: it is ignored for the running VM and used by a new one.
resource "terraform_data" "vm_spec" {
  input = {
    name             = var.name
    environment_name = var.environment_name
    flavor_name      = var.flavor_name
    image_name       = var.image_name
    key_name         = var.key_name
  }
}

resource "hyperstack_core_virtual_machine" "this" {
  name               = var.name
  environment_name   = var.environment_name
  flavor_name        = var.flavor_name
  image_name         = var.image_name
  key_name           = var.key_name
  assign_floating_ip = true # for package downloads (and SSH when allowed); nothing else is open
  user_data          = module.cloud_init.data

  lifecycle {
    ignore_changes       = [user_data]
    replace_triggered_by = [terraform_data.vm_spec]
  }
}

resource "terraform_data" "ssh_rule" {
  for_each = toset(var.ssh_allowed_cidrs)

  input = {
    port             = 22
    remote_ip_prefix = each.value
  }
}

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
