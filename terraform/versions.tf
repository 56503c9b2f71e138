terraform {
  required_version = ">= 1.6"

  required_providers {
    # Every release of this provider is a pre-release, so a version range would
    # match nothing: pin the exact version.
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
