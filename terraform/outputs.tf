output "console_url" {
  description = "The web console of the first gateway (with several, use the load balancer's address)."
  value       = "${module.gateway.base_urls[0]}/"
}

output "openai_base_url" {
  description = "OpenAI-compatible base URL of the first gateway (with several, use the load balancer's address)."
  value       = "${module.gateway.base_urls[0]}/v1"
}

output "gateway_urls" {
  description = "Base URL of every gateway."
  value       = module.gateway.base_urls
}

output "gateway_ip" {
  description = "Floating IP of the first gateway VM (ssh ubuntu@<ip>)."
  value       = module.gateway.floating_ips[0]
}

output "gateway_ips" {
  description = "Gateway VM name => floating IP (SSH, load balancer)."
  value       = zipmap(module.gateway.names, module.gateway.floating_ips)
}

output "gateway_private_ips" {
  description = "Gateway VM name => private IP (what replicas, the data VM and the other members see)."
  value       = zipmap(module.gateway.names, module.gateway.fixed_ips)
}

output "cluster" {
  description = "Cluster settings of the gateways (null with one gateway): Hazelcast on hazelcast_port, the event bus on event_bus_port, members registered in Redis at boot."
  value = var.gateway_count > 1 ? {
    members        = [for ip in module.gateway.fixed_ips : "${ip}:${var.cluster_port}"]
    hazelcast_port = var.cluster_port
    event_bus_port = var.cluster_port + 1
  } : null
}

output "data_vm" {
  description = "The data VM (MariaDB and Redis), or null when they run on the gateway VM."
  value = local.use_data_vm ? {
    name        = module.data[0].name
    floating_ip = module.data[0].floating_ip
    private_ip  = module.data[0].fixed_ip
  } : null
}

output "replica_endpoints" {
  description = "Model id => vLLM endpoints registered with the gateways."
  value       = local.replica_endpoints
}

output "replica_api_keys" {
  description = "vLLM endpoint => the API key it requires (terraform output -json replica_api_keys)."
  value       = { for key, vm in module.inference : vm.endpoint => vm.api_key }
  sensitive   = true
}

output "inference_vms" {
  description = "VM name => floating IP of every vLLM VM (for SSH)."
  value       = { for key, vm in module.inference : vm.name => vm.floating_ip }
}

output "admin_api_key" {
  description = "ADMIN_API_KEY of the gateways (terraform output -raw admin_api_key)."
  value       = module.gateway.admin_api_key
  sensitive   = true
}

output "metrics_token" {
  description = "Bearer token for Prometheus scraping the gateways' /metrics (terraform output -raw metrics_token)."
  value       = module.gateway.metrics_token
  sensitive   = true
}

output "app_password" {
  description = "Console password (terraform output -raw app_password)."
  value       = module.gateway.app_password
  sensitive   = true
}

output "database_password" {
  description = "Password of the gateways' MariaDB user `gateway` (for maintenance and rotation, see the README)."
  value       = module.gateway.db_password
  sensitive   = true
}

output "redis_password" {
  description = "Password of the data VM's Redis (null when Redis runs on the gateway VM, bound to 127.0.0.1)."
  value       = local.use_data_vm ? module.data[0].redis_password : null
  sensitive   = true
}

output "load_balancer_haproxy_cfg" {
  description = "HAProxy configuration for these gateways (terraform output -raw load_balancer_haproxy_cfg); see conf/lb/."
  value       = local.load_balancer_haproxy_cfg
}
