package io.inferencegateway.simulator;

/**
 * How long one engine step takes, shaped after published vLLM measurements (Llama-3.1-8B on an H100:
 * time per output token about 6.5 ms from 1 to 4 running requests, 10.9 ms at 16, 46.9 ms at 64; time to
 * first token 14 ms for a short prompt alone):
 *
 * <pre>step ms = max(baseMs, perSeqMs * seqs) + prefillPerTokenMs * prefillTokens</pre>
 *
 * where {@code seqs} counts the sequences in the step (decoding or prefilling) and {@code prefillTokens}
 * the prompt tokens computed in it (cache hits are not computed). A roofline: a small batch costs the
 * same as one request (reading the weights dominates), a large one grows with its size, so aggregate
 * decode throughput rises with the batch and then saturates; prefill work adds to the step of everyone in
 * it, as on a GPU. Defaults 6.5, 0.75, 0.075 give 6.5 ms up to 8 sequences, 12 ms at 16, 48 ms at 64,
 * decode saturating at 1,333 tokens/s, and prefill at about 13,000 tokens/s.
 */
record StepCost(double baseMs, double perSeqMs, double prefillPerTokenMs) {

  static StepCost of(SimulatorSettings s) {
    return new StepCost(s.stepBaseMs(), s.stepPerSeqMs(), s.prefillPerTokenMs());
  }

  double ms(int seqs, long prefillTokens) {
    return Math.max(baseMs, perSeqMs * seqs) + prefillPerTokenMs * prefillTokens;
  }

  long nanos(int seqs, long prefillTokens) {
    return Math.round(ms(seqs, prefillTokens) * 1_000_000.0);
  }
}
