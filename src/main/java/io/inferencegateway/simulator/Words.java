package io.inferencegateway.simulator;

import java.nio.charset.StandardCharsets;

/**
 * The simulator's "tokenizer": one whitespace-separated word is one token, and answers are words
 * from a fixed list, so every answer is deterministic and cheap to produce.
 */
final class Words {

  private static final String[] VOCABULARY = (
      "The simulated model answers with plain words so that every token is easy to count and "
      + "every reply can be checked by a test without any randomness at all while the gateway "
      + "measures latency throughput and fairness across replicas under steady load today")
      .split(" ");

  // Token JSON string literals, with and without the leading space a continuation token carries.
  private static final byte[][] FIRST = new byte[VOCABULARY.length][];
  private static final byte[][] NEXT = new byte[VOCABULARY.length][];

  static {
    for (int i = 0; i < VOCABULARY.length; i++) {
      FIRST[i] = ("\"" + VOCABULARY[i] + "\"").getBytes(StandardCharsets.US_ASCII);
      NEXT[i] = ("\" " + VOCABULARY[i] + "\"").getBytes(StandardCharsets.US_ASCII);
    }
  }

  private Words() {
  }

  private static int slot(int choice, int position) {
    // Choices start at different words so that n > 1 gives distinguishable answers.
    return (position + 7 * choice) % VOCABULARY.length;
  }

  /** The token at {@code position} of choice {@code choice} as a quoted JSON string. */
  static byte[] tokenJson(int choice, int position) {
    int s = slot(choice, position);
    return position == 0 ? FIRST[s] : NEXT[s];
  }

  /** The whole answer text, equal to the concatenation of the streamed tokens. */
  static String answer(int choice, int tokens) {
    StringBuilder sb = new StringBuilder(tokens * 8);
    for (int i = 0; i < tokens; i++) {
      if (i > 0) {
        sb.append(' ');
      }
      sb.append(VOCABULARY[slot(choice, i)]);
    }
    return sb.toString();
  }

  /** Number of whitespace-separated words: the simulator's token count for a text. */
  static int count(CharSequence text) {
    if (text == null) {
      return 0;
    }
    int words = 0;
    boolean inWord = false;
    for (int i = 0, n = text.length(); i < n; i++) {
      boolean space = Character.isWhitespace(text.charAt(i));
      if (!space && !inWord) {
        words++;
      }
      inWord = !space;
    }
    return words;
  }
}
