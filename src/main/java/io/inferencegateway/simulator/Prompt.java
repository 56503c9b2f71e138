package io.inferencegateway.simulator;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One prompt as the simulated model sees it: its token count, where its answer starts in the word list
 * ({@link Words#start}), how many answer words it already holds (a continuation), and, when the
 * faithful engine needs them for prefix caching, its token ids.
 *
 * <p>Chat template: each message is {@code [header(role), end-header] + words + [end-of-turn, newline]}
 * (4 tokens plus its words), and the generation prompt is {@code [header(assistant), end-header]}
 * (2 tokens). An assistant message being continued is rendered as the generation prompt followed by its
 * words, so a continuation's tokens are the original prompt's tokens followed by the answer's words, as
 * with a real template, and its prefix is cached like the original's.
 *
 * @param tokens   prompt tokens
 * @param start    where the answer starts in the word list; derived from the prompt without the text
 *                 being continued, so an original request and its continuations agree
 * @param answered answer words already present in the prompt (the continued text)
 * @param ids      token ids, or null when not asked for
 */
record Prompt(int tokens, int start, int answered, int[] ids) {

  private static final int END_HEADER = Words.specialTokenId("end_header");
  private static final int END_OF_TURN = Words.specialTokenId("eot");
  private static final int NEWLINE = Words.specialTokenId("nl");
  private static final int BOS = Words.specialTokenId("bos");
  private static final java.util.Map<String, Integer> ROLE_HEADERS = java.util.Map.of(
      "system", Words.specialTokenId("header:system"), "user", Words.specialTokenId("header:user"),
      "assistant", Words.specialTokenId("header:assistant"), "tool", Words.specialTokenId("header:tool"),
      "developer", Words.specialTokenId("header:developer"));

  private static int header(String role) {
    Integer id = ROLE_HEADERS.get(role);
    return id != null ? id : Words.specialTokenId("header:" + role);
  }

  /**
   * A chat prompt. {@code continueFinal}: the last message is an assistant message to continue.
   * Messages must already be checked to be objects with a string role.
   */
  static Prompt chat(JsonArray messages, boolean continueFinal, boolean addGenerationPrompt, boolean wantIds) {
    IntList ids = wantIds ? new IntList(64) : null;
    long seed = Words.seed();
    int tokens = 0;
    int answered = 0;
    int last = messages.size() - 1;
    for (int i = 0; i <= last; i++) {
      JsonObject message = messages.getJsonObject(i);
      int header = header(message.getString("role"));
      boolean continued = continueFinal && i == last;
      Object content = message.getValue("content");
      if (continued) {
        // The continued text is not part of what the answer is derived from: it is the answer's start.
        int words = forEachText(content, null, ids, header);
        tokens += 2 + words;
        answered = words;
      } else {
        seed = Words.mix(seed, header);
        long[] seedBox = {seed};
        int words = forEachText(content, seedBox, ids, header);
        seed = seedBox[0];
        tokens += 4 + words;
        if (ids != null) {
          ids.add(END_OF_TURN);
          ids.add(NEWLINE);
        }
      }
    }
    if (!continueFinal && addGenerationPrompt) {
      tokens += 2;
      if (ids != null) {
        ids.add(header("assistant"));
        ids.add(END_HEADER);
      }
    }
    return new Prompt(tokens, Words.start(seed), answered, ids == null ? null : ids.toArray());
  }

  /** Adds a message's header and words to {@code ids} and {@code seed} (each may be null); returns its words. */
  private static int forEachText(Object content, long[] seed, IntList ids, int header) {
    if (ids != null) {
      ids.add(header);
      ids.add(END_HEADER);
    }
    int[] words = {0};
    for (String text : texts(content)) {
      Words.forEachWord(text, (from, to) -> {
        words[0]++;
        int id = Words.tokenId(text, from, to);
        if (seed != null) {
          seed[0] = Words.mix(seed[0], id);
        }
        if (ids != null) {
          ids.add(id);
        }
      });
    }
    return words[0];
  }

  /** The text of a message's content: a string, or the text parts of a list of parts. */
  static List<String> texts(Object content) {
    if (content instanceof String s) {
      return List.of(s);
    }
    if (content instanceof JsonArray parts) {
      List<String> texts = new ArrayList<>(parts.size());
      for (int i = 0; i < parts.size(); i++) {
        if (parts.getValue(i) instanceof JsonObject part && part.getValue("text") instanceof String text) {
          texts.add(text);
        }
      }
      return texts;
    }
    return List.of();
  }

  /**
   * A completion prompt given as text. If it ends with the first words of the answer to the text before
   * them, those words are taken as already generated and the answer continues after them: the longest
   * such ending wins. Only words of the answer's word list can match, so a prompt that ends in any other
   * word (or in punctuation, or a digit) is never read as a continuation.
   */
  static Prompt text(String prompt, boolean wantIds) {
    // The trailing words that belong to the word list are the only candidates for generated text.
    List<int[]> tail = new ArrayList<>();
    int end = prompt.length();
    while (true) {
      while (end > 0 && Character.isWhitespace(prompt.charAt(end - 1))) {
        end--;
      }
      int begin = end;
      while (begin > 0 && !Character.isWhitespace(prompt.charAt(begin - 1))) {
        begin--;
      }
      if (begin == end || !Words.inVocabulary(prompt.substring(begin, end))) {
        break;
      }
      tail.add(0, new int[] {begin, end});
      end = begin;
    }
    int boundary = tail.isEmpty() ? prompt.length() : tail.get(0)[0];
    IntList ids = wantIds ? new IntList(Math.max(16, prompt.length() / 5)) : null;
    if (ids != null) {
      ids.add(BOS);
    }
    int[] words = {0};
    long[] seed = {Words.seed()};
    Words.forEachWord(prompt, 0, boundary, (from, to) -> {
      words[0]++;
      int id = Words.tokenId(prompt, from, to);
      seed[0] = Words.mix(seed[0], id);
      if (ids != null) {
        ids.add(id);
      }
    });
    // seeds[t]: the seed of the text before the tail plus the tail's first t words.
    long[] seeds = new long[tail.size() + 1];
    seeds[0] = seed[0];
    for (int t = 0; t < tail.size(); t++) {
      int id = Words.tokenId(prompt, tail.get(t)[0], tail.get(t)[1]);
      seeds[t + 1] = Words.mix(seeds[t], id);
      if (ids != null) {
        ids.add(id);
      }
    }
    int total = words[0] + tail.size();
    int answered = 0;
    long answerSeed = seeds[tail.size()];
    for (int j = tail.size(); j >= 1 && answered == 0; j--) {
      int first = tail.size() - j;
      int start = Words.start(seeds[first]);
      boolean match = true;
      for (int i = 0; i < j && match; i++) {
        int[] w = tail.get(first + i);
        String expected = Words.word(start, 0, i);
        match = expected.length() == w[1] - w[0] && prompt.startsWith(expected, w[0]);
      }
      if (match) {
        answered = j;
        answerSeed = seeds[first];
      }
    }
    return new Prompt(total + 1, Words.start(answerSeed), answered, ids == null ? null : ids.toArray());
  }

  /** A completion prompt given as token ids; never a continuation. */
  static Prompt tokenIds(JsonArray raw, boolean wantIds) {
    int[] ids = new int[raw.size()];
    long seed = Words.seed();
    for (int i = 0; i < ids.length; i++) {
      ids[i] = ((Number) raw.getValue(i)).intValue();
      seed = Words.mix(seed, ids[i]);
    }
    return new Prompt(ids.length, Words.start(seed), 0, wantIds ? ids : null);
  }

  /** A growable int array, to collect token ids without boxing. */
  static final class IntList {
    private int[] values;
    private int size;

    IntList(int capacity) {
      values = new int[Math.max(4, capacity)];
    }

    void add(int v) {
      if (size == values.length) {
        values = Arrays.copyOf(values, size * 2);
      }
      values[size++] = v;
    }

    void addAll(int[] more) {
      if (size + more.length > values.length) {
        values = Arrays.copyOf(values, Math.max(size * 2, size + more.length));
      }
      System.arraycopy(more, 0, values, size, more.length);
      size += more.length;
    }

    int[] toArray() {
      return Arrays.copyOf(values, size);
    }
  }
}
