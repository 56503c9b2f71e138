/**
 * Replicas deployed on demand on Hyperstack: {@link io.inferencegateway.hyperstack.HyperstackClient} (the few VM
 * calls of the Infrahub API), {@link io.inferencegateway.hyperstack.CloudInit} (the VM's cloud-config: Docker, the
 * NVIDIA toolkit, then the replica's run command) and {@link io.inferencegateway.hyperstack.ProvisioningVerticle},
 * which creates the VM when the admin API asks, follows it until vLLM serves the model, and deletes it on request.
 */
package io.inferencegateway.hyperstack;
