terraform {
  required_version = ">= 1.6"

  required_providers {
    hyperstack = {
      source  = "NexGenCloud/hyperstack"
      version = "1.50.0-alpha"
    }
    random = {
      source  = "hashicorp/random"
      version = "3.6.3"
    }
  }
}
