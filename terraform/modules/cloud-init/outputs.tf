output "vllm" {
  description = "Rendered cloud-config (user_data) of a vLLM inference VM, or null when var.vllm is null."
  value       = local.vllm_cloud_config == null ? null : "#cloud-config\n${yamlencode(local.vllm_cloud_config)}"
  sensitive   = true
}

output "gateway" {
  description = "Rendered cloud-config (user_data) of the gateway VM, or null when var.gateway is null."
  value       = local.gateway_cloud_config == null ? null : "#cloud-config\n${yamlencode(local.gateway_cloud_config)}"
  sensitive   = true
}
