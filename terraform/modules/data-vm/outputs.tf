output "id" {
  description = "Hyperstack id of the data VM."
  value       = hyperstack_core_virtual_machine.this.id
}

output "name" {
  description = "Name of the data VM."
  value       = hyperstack_core_virtual_machine.this.name
}

output "floating_ip" {
  description = "Public (floating) IPv4 address of the data VM (SSH only, when allowed)."
  value       = hyperstack_core_virtual_machine.this.floating_ip
}

output "fixed_ip" {
  description = "Private IPv4 address the gateways reach MariaDB (3306) and Redis (6379) on."

  precondition {
    condition     = try(length(hyperstack_core_virtual_machine.this.fixed_ip) > 0, false)
    error_message = "The data VM has no fixed IP yet. Run terraform apply again."
  }

  value = hyperstack_core_virtual_machine.this.fixed_ip
}

output "db_password" {
  description = "Password of the gateways' MariaDB user."
  value       = random_password.db_password.result
  sensitive   = true
}

output "redis_password" {
  description = "Redis password (requirepass)."
  value       = random_password.redis_password.result
  sensitive   = true
}
