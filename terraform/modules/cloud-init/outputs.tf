output "vllm" {
  description = "Rendered cloud-config (user_data) of a vLLM inference VM, or null when var.vllm is null."
  value       = local.vllm_cloud_config == null ? null : "#cloud-config\n${yamlencode(local.vllm_cloud_config)}"
  sensitive   = true
}

output "gateway" {
  description = "Rendered cloud-config (user_data) of a gateway VM, or null when var.gateway is null."
  value       = local.gateway_cloud_config == null ? null : "#cloud-config\n${yamlencode(local.gateway_cloud_config)}"
  sensitive   = true
}

output "gateway_replace_hash" {
  description = "SHA-256 of the gateway's cloud-config without the TLS certificate and key: a change of anything else replaces the VM, a new certificate does not (it is rotated in place)."
  value       = local.gateway_replace_config == null ? null : sha256("#cloud-config\n${yamlencode(local.gateway_replace_config)}")
  sensitive   = true
}

output "data" {
  description = "Rendered cloud-config (user_data) of the data VM (MariaDB and Redis), or null when var.data is null."
  value       = local.data_cloud_config == null ? null : "#cloud-config\n${yamlencode(local.data_cloud_config)}"
  sensitive   = true
}
