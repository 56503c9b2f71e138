package io.inferencegateway.simulator;

/**
 * How long one engine step takes, shaped after published vLLM measurements (Llama-3.1-8B on an H100:
 * time per output token about 6.5 ms from 1 to 4 running requests, 10.9 ms at 16, 46.9 ms at 64; time to
 * first token 14 ms for a short prompt alone):
 *
 * <pre>step ms = baseMs + perSeqMs * max(0, seqs - flatSeqs) + prefillPerTokenMs * prefillTokens</pre>
 *
 * where {@code seqs} counts the sequences in the step (decoding or prefilling) and {@code prefillTokens}
 * the prompt tokens computed in it (cache hits are not computed). Decoding is flat while the batch is
 * small (reading the weights dominates), then grows with the batch; prefill work adds to the step of
 * everyone in it, as on a GPU. Defaults: 6.5, 0.75, 10, 0.075, so aggregate decode throughput saturates
 * near 1,330 tokens/s and prefill runs at about 13,000 tokens/s.
 */
record StepCost(double baseMs, double perSeqMs, int flatSeqs, double prefillPerTokenMs) {

  static StepCost of(SimulatorSettings s) {
    return new StepCost(s.stepBaseMs(), s.stepPerSeqMs(), s.stepFlatSeqs(), s.prefillPerTokenMs());
  }

  double ms(int seqs, long prefillTokens) {
    return baseMs + perSeqMs * Math.max(0, seqs - flatSeqs) + prefillPerTokenMs * prefillTokens;
  }

  long nanos(int seqs, long prefillTokens) {
    return Math.round(ms(seqs, prefillTokens) * 1_000_000.0);
  }
}
