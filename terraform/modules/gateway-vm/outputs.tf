output "id" {
  description = "Hyperstack id of the gateway VM."
  value       = hyperstack_core_virtual_machine.this.id
}

output "floating_ip" {
  description = "Public (floating) IPv4 address of the gateway."
  value       = hyperstack_core_virtual_machine.this.floating_ip
}

output "fixed_ip" {
  description = "Private IPv4 address of the gateway."
  value       = hyperstack_core_virtual_machine.this.fixed_ip
}

output "base_url" {
  description = "http://<floating ip>:<port> of the gateway."

  precondition {
    condition     = try(length(hyperstack_core_virtual_machine.this.floating_ip) > 0, false)
    error_message = "The gateway VM has no floating IP yet (Hyperstack can attach it shortly after the VM is ACTIVE). Run terraform apply again."
  }

  value = "http://${hyperstack_core_virtual_machine.this.floating_ip}:${var.http_port}"
}

output "admin_api_key" {
  description = "ADMIN_API_KEY of the gateway."
  value       = local.admin_api_key
  sensitive   = true
}

output "app_password" {
  description = "Console password (APP_PASSWORD) of the gateway."
  value       = local.app_password
  sensitive   = true
}
