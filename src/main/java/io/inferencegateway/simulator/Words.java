package io.inferencegateway.simulator;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

/**
 * The simulator's "tokenizer" and "model": one whitespace-separated word is one token, and an answer is
 * a walk through a fixed word list that starts at a place chosen by the prompt.
 *
 * <p>Answer word {@code i} of choice {@code c} for a prompt whose {@link #start} is {@code s} is
 * {@code VOCABULARY[(s + 7c + i) % size]}. So the same prompt always gets the same answer, and an answer
 * that was cut after {@code k} words is finished by emitting words {@code k, k+1, ...} of the same walk:
 * that is how a continuation (an assistant message to continue, or a completion prompt followed by text
 * already generated) resumes exactly where an unbroken run would have gone.
 */
final class Words {

  private static final String[] VOCABULARY = (
      "The simulated model answers with plain words so that every token is easy to count and "
      + "every reply can be checked by a test without any randomness at all while the gateway "
      + "measures latency throughput and fairness across replicas under steady load today")
      .split(" ");

  static final int SIZE = VOCABULARY.length;

  private static final Set<String> VOCABULARY_SET = new HashSet<>(java.util.Arrays.asList(VOCABULARY));

  /** Token ids of the vocabulary words, the same ids {@link #tokenId} gives the words in a prompt. */
  private static final int[] IDS = new int[SIZE];

  // Token JSON string literals, with and without the leading space a token after the first carries.
  private static final byte[][] BARE = new byte[SIZE][];
  private static final byte[][] SPACED = new byte[SIZE][];

  private static final long FNV_OFFSET = 0xcbf29ce484222325L;
  private static final long FNV_PRIME = 0x100000001b3L;

  static {
    for (int i = 0; i < SIZE; i++) {
      BARE[i] = ("\"" + VOCABULARY[i] + "\"").getBytes(StandardCharsets.US_ASCII);
      SPACED[i] = ("\" " + VOCABULARY[i] + "\"").getBytes(StandardCharsets.US_ASCII);
      IDS[i] = tokenId(VOCABULARY[i], 0, VOCABULARY[i].length());
    }
  }

  private Words() {
  }

  private static int slot(int start, int choice, int position) {
    // Choices start at different words so that n > 1 gives distinguishable answers.
    return (int) ((start + 7L * choice + position) % SIZE);
  }

  /** The word at {@code position} of an answer. */
  static String word(int start, int choice, int position) {
    return VOCABULARY[slot(start, choice, position)];
  }

  /**
   * The token at {@code position} as a quoted JSON string. Chat answers start without a space; every
   * other token, and every completion token, carries a leading space, so a completion prompt followed by
   * the text generated so far still splits into the same words.
   */
  static byte[] tokenJson(int start, int choice, int position, boolean chat) {
    int s = slot(start, choice, position);
    return position == 0 && chat ? BARE[s] : SPACED[s];
  }

  /** The token id of answer word {@code position}, as the prefix cache hashes it. */
  static int answerTokenId(int start, int choice, int position) {
    return IDS[slot(start, choice, position)];
  }

  /** Words {@code from .. from+count-1} of the answer, equal to the concatenation of the streamed tokens. */
  static String answer(int start, int choice, int from, int count, boolean chat) {
    StringBuilder sb = new StringBuilder(count * 9);
    for (int i = from; i < from + count; i++) {
      if (i > 0 || !chat) {
        sb.append(' ');
      }
      sb.append(VOCABULARY[slot(start, choice, i)]);
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

  /** The id of the token {@code text[from, to)}: a 32-bit FNV-1a hash of its characters. */
  static int tokenId(CharSequence text, int from, int to) {
    int h = 0x811c9dc5;
    for (int i = from; i < to; i++) {
      h = (h ^ text.charAt(i)) * 0x01000193;
    }
    return h;
  }

  /** The id of a token that is not a word (a chat template's role header, end of turn, ...). */
  static int specialTokenId(String name) {
    return tokenId("<|" + name + "|>", 0, name.length() + 4);
  }

  /** Seed hash of an empty prompt; {@link #mix} folds tokens in, so a prefix's seed extends to the whole. */
  static long seed() {
    return FNV_OFFSET;
  }

  static long mix(long seed, int tokenId) {
    return (seed ^ (tokenId & 0xffffffffL)) * FNV_PRIME;
  }

  /** Where the answer to a prompt with this seed starts in the word list. */
  static int start(long seed) {
    long z = seed;
    z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
    z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
    z ^= z >>> 33;
    return (int) Math.floorMod(z, (long) SIZE);
  }

  static boolean inVocabulary(String word) {
    return VOCABULARY_SET.contains(word);
  }

  /** Calls {@code sink} with the start and end of every word of {@code text}. */
  static void forEachWord(CharSequence text, WordSink sink) {
    forEachWord(text, 0, text.length(), sink);
  }

  /** Calls {@code sink} with the start and end of every word of {@code text[from, to)}. */
  static void forEachWord(CharSequence text, int from, int to, WordSink sink) {
    int begin = -1;
    for (int i = from, n = to; i <= n; i++) {
      boolean space = i == n || Character.isWhitespace(text.charAt(i));
      if (space) {
        if (begin >= 0) {
          sink.word(begin, i);
          begin = -1;
        }
      } else if (begin < 0) {
        begin = i;
      }
    }
  }

  @FunctionalInterface
  interface WordSink {
    void word(int from, int to);
  }
}
