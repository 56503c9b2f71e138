package io.inferencegateway.admin;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Validation messages in marshmallow's layout, so the toolkit's clients read them unchanged: a field maps to a list
 * of messages, a nested object to a nested map, a list item to a map keyed by its index as a string, and errors about
 * the whole object sit under {@code _schema}. Child views write into the same tree; a child with no messages leaves
 * no trace in it.
 */
final class FieldErrors {

  static final String SCHEMA = "_schema";

  private final FieldErrors parent;
  private final String key;
  private JsonObject node;

  FieldErrors() {
    this(null, null);
    this.node = new JsonObject();
  }

  private FieldErrors(FieldErrors parent, String key) {
    this.parent = parent;
    this.key = key;
  }

  /** The errors of a nested object or list item ({@code child("0")}). */
  FieldErrors child(String key) {
    return new FieldErrors(this, key);
  }

  FieldErrors child(int index) {
    return child(Integer.toString(index));
  }

  void add(String field, String message) {
    JsonObject n = node();
    JsonArray messages = n.getValue(field) instanceof JsonArray a ? a : null;
    if (messages == null) {
      messages = new JsonArray();
      n.put(field, messages);
    }
    messages.add(message);
  }

  /** An error about the object as a whole. */
  void addSchema(String message) {
    add(SCHEMA, message);
  }

  private JsonObject node() {
    if (node == null) {
      JsonObject p = parent.node();
      node = p.getValue(key) instanceof JsonObject existing ? existing : new JsonObject();
      p.put(key, node);
    }
    return node;
  }

  boolean isEmpty() {
    return root().node.isEmpty();
  }

  private FieldErrors root() {
    FieldErrors r = this;
    while (r.parent != null) {
      r = r.parent;
    }
    return r;
  }

  JsonObject toJson() {
    return root().node.copy();
  }

  /** Fails with 400 and every message collected so far, if there is any. */
  void throwIfAny() {
    if (!isEmpty()) {
      throw AdminFailure.validation(toJson());
    }
  }
}
