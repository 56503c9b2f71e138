# Provider-free root used by ../../check.sh to render both cloud-configs with
# sample values and syntax-check every shell script they install (bash -n).
terraform {
  required_version = ">= 1.6"
}

module "vllm" {
  source = "../../modules/cloud-init"

  vllm = {
    model = "NousResearch/Meta-Llama-3.1-8B-Instruct"
    args  = ["--gpu-memory-utilization", "0.9", "--max-model-len", "15360", "--chat-template", "it's.jinja"]
  }
  hf_token = "hf_sample"
}

module "gateway" {
  source = "../../modules/cloud-init"

  gateway = {
    jar_url       = "https://example.com/inference-gateway.jar"
    jar_sha256    = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    admin_api_key = "adminkey0123456789abcdef"
    app_password  = "consolepassword0123"
    db_password   = "dbpassword0123456789"
    models = {
      "NousResearch/Meta-Llama-3.1-8B-Instruct" = ["http://203.0.113.10:8000"]
    }
  }
}

module "gateway_unverified" {
  source = "../../modules/cloud-init"

  gateway = {
    jar_url       = "https://example.com/inference-gateway.jar"
    admin_api_key = "adminkey0123456789abcdef"
    app_password  = "consolepassword0123"
    db_password   = "dbpassword0123456789"
    models        = {}
  }
}

locals {
  rendered = {
    vllm               = module.vllm.vllm
    gateway            = module.gateway.gateway
    gateway_unverified = module.gateway_unverified.gateway
  }
}

output "user_data" {
  description = "The rendered cloud-configs, by name."
  value       = local.rendered
  sensitive   = true
}

output "scripts" {
  description = "Every installed file that starts with a shebang, by VM kind and path."
  value = merge([
    for kind, doc in local.rendered : {
      for f in yamldecode(doc).write_files : "${kind}:${f.path}" => f.content if startswith(f.content, "#!")
    }
  ]...)
  sensitive = true
}
