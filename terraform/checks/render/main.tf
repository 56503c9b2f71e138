# Provider-free root used by ../../check.sh to render every cloud-config with
# sample values and syntax-check each shell script they install (bash -n,
# shellcheck), and to render the load-balancer example of conf/lb/.
terraform {
  required_version = ">= 1.6"
}

module "vllm" {
  source = "../../modules/cloud-init"

  vllm = {
    model   = "NousResearch/Meta-Llama-3.1-8B-Instruct"
    args    = ["--gpu-memory-utilization", "0.9", "--max-model-len", "15360", "--chat-template", "it's.jinja"]
    api_key = "replicakey0123456789abcdef"
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
      "NousResearch/Meta-Llama-3.1-8B-Instruct" = [{ endpoint = "http://10.0.0.10:8000", api_key = "replicakey0123456789abcdef" }]
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

module "gateway_cluster_tls" {
  source = "../../modules/cloud-init"

  gateway = {
    jar_url        = "https://example.com/inference-gateway.jar"
    admin_api_key  = "adminkey0123456789abcdef"
    app_password   = "consolepassword0123"
    db_password    = "dbpassword0123456789"
    data_host      = "10.0.0.5"
    redis_password = "redispassword0123456789"
    cluster        = true
    tls_cert_pem   = "-----BEGIN CERTIFICATE-----\nMIIBcertificate\n-----END CERTIFICATE-----\n"
    tls_key_pem    = "-----BEGIN PRIVATE KEY-----\nMIIEkey\n-----END PRIVATE KEY-----\n"
    models         = {}
  }
}

module "data" {
  source = "../../modules/cloud-init"

  data = {
    db_password    = "dbpassword0123456789"
    redis_password = "redispassword0123456789"
  }
}

locals {
  rendered = {
    vllm                = module.vllm.vllm
    gateway             = module.gateway.gateway
    gateway_unverified  = module.gateway_unverified.gateway
    gateway_cluster_tls = module.gateway_cluster_tls.gateway
    data                = module.data.data
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

output "load_balancer_example" {
  description = "conf/lb/haproxy.cfg: the root module's HAProxy template for two gateways on this machine."
  value = templatefile("../../templates/haproxy.cfg.tftpl", {
    bind        = "127.0.0.1:8080"
    client_tls  = false
    backend_tls = false
    servers = [
      { name = "gateway0", address = "127.0.0.1:5001" },
      { name = "gateway1", address = "127.0.0.1:5002" },
    ]
  })
}

output "load_balancer_tls_example" {
  description = "The HAProxy template with TLS towards clients and gateways (checked with haproxy -c)."
  value = templatefile("../../templates/haproxy.cfg.tftpl", {
    bind        = "127.0.0.1:8443"
    client_tls  = true
    backend_tls = true
    servers     = [{ name = "gateway0", address = "10.0.0.11:5001" }]
  })
}

output "units" {
  description = "Every systemd unit each cloud-config installs, by VM kind and file name."
  value = {
    for kind, doc in local.rendered : kind => {
      for f in yamldecode(doc).write_files : basename(f.path) => f.content if startswith(f.path, "/etc/systemd/system/")
    } if length([for f in yamldecode(doc).write_files : f if startswith(f.path, "/etc/systemd/system/")]) > 0
  }
  sensitive = true
}
