output "id" {
  description = "Hyperstack id of the VM."
  value       = hyperstack_core_virtual_machine.this.id
}

output "name" {
  description = "Name of the VM."
  value       = hyperstack_core_virtual_machine.this.name
}

output "floating_ip" {
  description = "Public (floating) IPv4 address of the VM."
  value       = hyperstack_core_virtual_machine.this.floating_ip
}

output "fixed_ip" {
  description = "Private IPv4 address of the VM."
  value       = hyperstack_core_virtual_machine.this.fixed_ip
}

output "port" {
  description = "TCP port of the vLLM server."
  value       = var.port
}

output "model" {
  description = "Model served by this VM."
  value       = var.model
}

output "endpoint" {
  description = "Base URL of the vLLM server as the gateway reaches it, e.g. http://10.0.0.10:8000 (the replica endpoint)."

  precondition {
    condition     = try(length(var.endpoint_network == "public" ? hyperstack_core_virtual_machine.this.floating_ip : hyperstack_core_virtual_machine.this.fixed_ip) > 0, false)
    error_message = "The VM has no ${var.endpoint_network == "public" ? "floating" : "fixed"} IP yet (Hyperstack can attach it shortly after the VM is ACTIVE). Run terraform apply again."
  }

  value = "http://${var.endpoint_network == "public" ? hyperstack_core_virtual_machine.this.floating_ip : hyperstack_core_virtual_machine.this.fixed_ip}:${var.port}"
}

output "api_key" {
  description = "The key vLLM requires on /v1 (Authorization: Bearer); the gateway registers the replica with it."
  value       = random_password.api_key.result
  sensitive   = true
}
