package io.inferencegateway.ingress;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The watch lists of the intake guard and the watchdog: a set without hashing. */
class SlotListTest {

  static final class Item implements SlotList.Slotted {
    final int n;
    int slot = -1;

    Item(int n) {
      this.n = n;
    }

    @Override
    public int slot() {
      return slot;
    }

    @Override
    public void slot(int slot) {
      this.slot = slot;
    }
  }

  static Set<Integer> contents(SlotList<Item> list) {
    Set<Integer> out = new HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      assertThat(list.get(i).slot()).as("each element knows its place").isEqualTo(i);
      out.add(list.get(i).n);
    }
    assertThat(out).as("no element twice").hasSize(list.size());
    return out;
  }

  @Test
  void behavesAsASetOfItsElements() {
    SlotList<Item> list = new SlotList<>();
    List<Item> items = new ArrayList<>();
    Set<Integer> expected = new HashSet<>();
    for (int i = 0; i < 40; i++) { // past the first capacity
      Item it = new Item(i);
      items.add(it);
      list.add(it);
      list.add(it); // a second add changes nothing
      expected.add(i);
    }
    assertThat(contents(list)).isEqualTo(expected);
    for (int i : new int[] {0, 39, 17, 17, 5, 38}) { // first, last, middle, twice
      list.remove(items.get(i));
      expected.remove(i);
      assertThat(contents(list)).isEqualTo(expected);
      assertThat(items.get(i).slot()).isEqualTo(-1);
    }
    Item stranger = new Item(99);
    list.remove(stranger);
    assertThat(contents(list)).isEqualTo(expected);
    list.add(items.get(17)); // back in after its removal
    expected.add(17);
    assertThat(contents(list)).isEqualTo(expected);
    for (Item it : items) {
      list.remove(it);
    }
    assertThat(list.isEmpty()).isTrue();
  }
}
