output "ids" {
  description = "Hyperstack ids of the gateway VMs."
  value       = hyperstack_core_virtual_machine.this[*].id
}

output "names" {
  description = "Names of the gateway VMs."
  value       = hyperstack_core_virtual_machine.this[*].name
}

output "floating_ips" {
  description = "Public (floating) IPv4 addresses of the gateways, in VM order."
  value       = hyperstack_core_virtual_machine.this[*].floating_ip
}

output "fixed_ips" {
  description = "Private IPv4 addresses of the gateways, in VM order (replicas and the data VM see these)."

  precondition {
    condition     = alltrue([for ip in hyperstack_core_virtual_machine.this[*].fixed_ip : try(length(ip) > 0, false)])
    error_message = "A gateway VM has no fixed IP yet. Run terraform apply again."
  }

  value = hyperstack_core_virtual_machine.this[*].fixed_ip
}

output "base_urls" {
  description = "http(s)://<floating ip>:<port> of each gateway."

  precondition {
    condition     = alltrue([for ip in hyperstack_core_virtual_machine.this[*].floating_ip : try(length(ip) > 0, false)])
    error_message = "A gateway VM has no floating IP yet (Hyperstack can attach it shortly after the VM is ACTIVE). Run terraform apply again."
  }

  value = [for ip in hyperstack_core_virtual_machine.this[*].floating_ip : "${local.tls ? "https" : "http"}://${ip}:${var.http_port}"]
}

output "tls" {
  description = "Whether the gateways serve HTTPS."
  value       = local.tls
}

output "admin_api_key" {
  description = "ADMIN_API_KEY of the gateways."
  value       = local.admin_api_key
  sensitive   = true
}

output "app_password" {
  description = "Console password (APP_PASSWORD) of the gateways."
  value       = local.app_password
  sensitive   = true
}

output "db_password" {
  description = "Password of the gateways' MariaDB user (the local one, or the data VM's)."
  value       = var.data == null ? random_password.db_password.result : var.data.db_password
  sensitive   = true
}

output "metrics_token" {
  description = "Bearer token for scraping the gateways' /metrics (METRICS_TOKEN)."
  value       = random_password.metrics_token.result
  sensitive   = true
}
