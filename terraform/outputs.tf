output "console_url" {
  description = "The gateway's web console."
  value       = "${module.gateway.base_url}/"
}

output "openai_base_url" {
  description = "OpenAI-compatible base URL for clients."
  value       = "${module.gateway.base_url}/v1"
}

output "gateway_ip" {
  description = "Floating IP of the gateway VM (ssh ubuntu@<ip>)."
  value       = module.gateway.floating_ip
}

output "replica_endpoints" {
  description = "Model id => vLLM endpoints registered with the gateway."
  value       = local.replica_endpoints
}

output "inference_vms" {
  description = "VM name => floating IP of every vLLM VM (for SSH)."
  value       = { for key, vm in module.inference : vm.name => vm.floating_ip }
}

output "admin_api_key" {
  description = "ADMIN_API_KEY of the gateway (terraform output -raw admin_api_key)."
  value       = module.gateway.admin_api_key
  sensitive   = true
}

output "app_password" {
  description = "Console password (terraform output -raw app_password)."
  value       = module.gateway.app_password
  sensitive   = true
}
