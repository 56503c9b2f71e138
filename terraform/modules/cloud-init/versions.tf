# Provider-free on purpose: this module only renders text, so it can be
# initialised, validated and tested offline (see tests/).
terraform {
  required_version = ">= 1.6"
}
