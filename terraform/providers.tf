# The API key is read from the HYPERSTACK_API_KEY environment variable.
provider "hyperstack" {}
