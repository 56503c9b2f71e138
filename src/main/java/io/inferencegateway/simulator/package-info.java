/**
 * A vLLM stand-in for demos, tests and benchmarks.
 *
 * <p>{@link io.inferencegateway.simulator.SimulatorVerticle} serves vLLM's OpenAI-compatible paths
 * ({@code /v1/chat/completions}, {@code /v1/completions}, {@code /v1/embeddings}, {@code /v1/models},
 * {@code /health}, {@code /metrics}) with deterministic answers, configurable latency, a
 * {@code maxNumSeqs} scheduler and injected faults, all described by
 * {@link io.inferencegateway.simulator.SimulatorSettings}. Tests steer a running simulator through
 * {@code /sim/settings} and read its counters on {@code /sim/stats}.
 * {@link io.inferencegateway.simulator.SimulatorCommand} runs one from the command line.
 */
package io.inferencegateway.simulator;
