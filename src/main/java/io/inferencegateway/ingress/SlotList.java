package io.inferencegateway.ingress;

import java.util.Arrays;

/**
 * An unordered set of elements that each keep their own place in it: adding and removing take no hashing (an
 * identity hash code costs a header inflation the first time), no entry object and no search. One event loop uses
 * it; an element is in at most one list of a kind at a time.
 */
final class SlotList<T extends SlotList.Slotted> {

  /** An element's place in the list it is in, or -1 (the list writes it; the element only stores it). */
  interface Slotted {
    int slot();

    void slot(int slot);
  }

  private Object[] items = new Object[16];
  private int size;

  /** Adds the element unless it is in already. */
  void add(T e) {
    if (e.slot() >= 0) {
      return;
    }
    if (size == items.length) {
      items = Arrays.copyOf(items, size * 2);
    }
    items[size] = e;
    e.slot(size++);
  }

  /** Removes the element if it is in (the last one takes its place). */
  void remove(T e) {
    int i = e.slot();
    if (i < 0 || i >= size || items[i] != e) {
      return;
    }
    Object last = items[--size];
    items[size] = null;
    if (i < size) {
      items[i] = last;
      cast(last).slot(i);
    }
    e.slot(-1);
  }

  int size() {
    return size;
  }

  boolean isEmpty() {
    return size == 0;
  }

  /** The element at {@code i} (0 to size - 1); removing the element at {@code i} moves the last one there. */
  T get(int i) {
    return cast(items[i]);
  }

  @SuppressWarnings("unchecked")
  private T cast(Object o) {
    return (T) o;
  }
}
