/**
 * A vLLM stand-in for demos, tests and benchmarks.
 *
 * <p>{@link io.inferencegateway.simulator.SimulatorVerticle} serves vLLM's OpenAI-compatible paths
 * ({@code /v1/chat/completions}, {@code /v1/completions}, {@code /v1/embeddings}, {@code /v1/models},
 * {@code /health}, {@code /metrics}) with deterministic answers (see {@code Words}: a prompt picks where its
 * answer starts, and a continuation resumes it), injected faults, and one of two engines: the instant one
 * (fixed latencies, a {@code maxNumSeqs} scheduler) or the faithful one ({@code BatchEngine}: continuous
 * batching, a prefix cache in {@code BlockPool}, step times from {@code StepCost}), all described by
 * {@link io.inferencegateway.simulator.SimulatorSettings}. Tests steer a running simulator through
 * {@code /sim/settings} and read its counters on {@code /sim/stats}.
 * {@link io.inferencegateway.simulator.SimulatorCommand} runs one from the command line.
 */
package io.inferencegateway.simulator;
