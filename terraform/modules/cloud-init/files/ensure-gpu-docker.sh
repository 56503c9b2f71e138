#!/bin/bash
# Makes sure Docker and the NVIDIA container toolkit are installed and that
# Docker knows the nvidia runtime. Safe to run more than once.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

if ! command -v docker >/dev/null 2>&1; then
  echo "docker not found: installing docker.io"
  apt-get update
  apt-get install -y docker.io
fi
systemctl enable --now docker

if ! command -v nvidia-ctk >/dev/null 2>&1; then
  echo "nvidia-ctk not found: installing nvidia-container-toolkit"
  keyring=/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg
  curl -fsSL https://nvidia.github.io/libnvidia-container/gpgkey |
    gpg --batch --yes --dearmor -o "$keyring"
  curl -fsSL https://nvidia.github.io/libnvidia-container/stable/deb/nvidia-container-toolkit.list |
    sed "s#deb https://#deb [signed-by=$keyring] https://#g" \
      >/etc/apt/sources.list.d/nvidia-container-toolkit.list
  apt-get update
  apt-get install -y nvidia-container-toolkit
fi

if ! docker info --format '{{json .Runtimes}}' | grep nvidia >/dev/null; then  # grep -q could SIGPIPE docker under pipefail
  echo "registering the nvidia runtime with docker"
  nvidia-ctk runtime configure --runtime=docker
  systemctl restart docker
fi

if ! nvidia-smi >/dev/null 2>&1; then
  echo "WARNING: nvidia-smi failed; the vLLM container needs a GPU flavor and an image with the NVIDIA driver" >&2
fi
