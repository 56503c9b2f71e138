package io.inferencegateway.admin;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Reads the fields of one JSON object the way the toolkit's marshmallow schemas did, collecting every problem in
 * {@link FieldErrors} instead of stopping at the first, with marshmallow's messages ("Missing data for required
 * field.", "Not a valid integer.", "Unknown field." ...). Lenient where marshmallow was: integers may come as
 * numeric strings (the toolkit's own console sent {@code "api_key_id": "5"}), booleans as "true"/"1"/"yes".
 * Stricter where it was lax: a fractional number is not a valid integer.
 */
final class JsonInput {

  static final String MISSING = "Missing data for required field.";
  static final String NULL = "Field may not be null.";
  static final String UNKNOWN = "Unknown field.";
  static final String INVALID_INPUT = "Invalid input type.";

  private final JsonObject json;
  private final FieldErrors errors;
  private final Set<String> fields;

  JsonInput(JsonObject json, FieldErrors errors, String... fields) {
    this.json = json;
    this.errors = errors;
    this.fields = Set.of(fields);
  }

  /** Parses a request body that must be one JSON object; anything else fails with 400 in the errors shape. */
  static JsonObject parseObject(Buffer body) {
    if (body == null || body.length() == 0 || body.toString().isBlank()) {
      throw AdminFailure.invalid(FieldErrors.SCHEMA, "The request body is empty; expected a JSON object.");
    }
    Object value;
    try {
      value = Json.decodeValue(body);
    } catch (DecodeException e) {
      throw AdminFailure.invalid(FieldErrors.SCHEMA, "The request body is not valid JSON.");
    }
    if (!(value instanceof JsonObject o)) {
      throw AdminFailure.invalid(FieldErrors.SCHEMA, INVALID_INPUT);
    }
    return o;
  }

  FieldErrors errors() {
    return errors;
  }

  boolean has(String field) {
    return json.containsKey(field);
  }

  /** Reports fields the schema does not know, as marshmallow's default {@code unknown=RAISE} did. */
  void rejectUnknown() {
    for (String name : json.fieldNames()) {
      if (!fields.contains(name)) {
        errors.add(name, UNKNOWN);
      }
    }
  }

  /** True if the value may be read: present and not null, or else the right error was recorded. */
  private boolean present(String field, boolean required, boolean nullable) {
    if (!json.containsKey(field)) {
      if (required) {
        errors.add(field, MISSING);
      }
      return false;
    }
    if (json.getValue(field) == null) {
      if (!nullable) {
        errors.add(field, NULL);
      }
      return false;
    }
    return true;
  }

  String string(String field, boolean required, boolean nullable) {
    if (!present(field, required, nullable)) {
      return null;
    }
    if (json.getValue(field) instanceof String s) {
      return s;
    }
    errors.add(field, "Not a valid string.");
    return null;
  }

  /** A string that must not be blank and fits the column. */
  String text(String field, boolean required, boolean nullable, int maxLength) {
    String s = string(field, required, nullable);
    if (s == null) {
      return null;
    }
    if (s.isBlank()) {
      errors.add(field, s.isEmpty() ? "Shorter than minimum length 1." : "Must not be blank.");
      return null;
    }
    if (s.length() > maxLength) {
      errors.add(field, "Longer than maximum length " + maxLength + ".");
      return null;
    }
    return s;
  }

  Long integer(String field, boolean required, boolean nullable, Long min, Long max) {
    if (!present(field, required, nullable)) {
      return null;
    }
    Long v = toLong(json.getValue(field));
    if (v == null) {
      errors.add(field, "Not a valid integer.");
      return null;
    }
    String range = checkRange(v, min, max);
    if (range != null) {
      errors.add(field, range);
      return null;
    }
    return v;
  }

  /** A boolean; absent means {@code absent}, null is refused as by marshmallow. */
  Boolean bool(String field, Boolean absent) {
    if (!present(field, false, false)) {
      return json.containsKey(field) ? null : absent;
    }
    Boolean b = toBoolean(json.getValue(field));
    if (b == null) {
      errors.add(field, "Not a valid boolean.");
    }
    return b;
  }

  String oneOf(String field, String absent, List<String> choices) {
    if (!json.containsKey(field)) {
      return absent;
    }
    String s = string(field, false, false);
    if (s == null) {
      return null;
    }
    if (!choices.contains(s)) {
      errors.add(field, "Must be one of: " + String.join(", ", choices) + ".");
      return null;
    }
    return s;
  }

  JsonArray list(String field, boolean required, boolean nullable) {
    if (!present(field, required, nullable)) {
      return null;
    }
    if (json.getValue(field) instanceof JsonArray a) {
      return a;
    }
    errors.add(field, "Not a valid list.");
    return null;
  }

  /** A nested object's reader, or null if absent, null or not an object (then the error is recorded). */
  JsonInput object(String field, boolean required, String... nestedFields) {
    if (!present(field, required, false)) {
      return null;
    }
    if (json.getValue(field) instanceof JsonObject o) {
      return new JsonInput(o, errors.child(field), nestedFields);
    }
    errors.child(field).addSchema(INVALID_INPUT);
    return null;
  }

  // ---- conversions shared with query-string parameters

  static Long toLong(Object v) {
    if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
      return ((Number) v).longValue();
    }
    if (v instanceof BigInteger bi) {
      return bi.bitLength() < 64 ? bi.longValue() : null;
    }
    if (v instanceof Double || v instanceof Float || v instanceof BigDecimal) {
      try {
        return new BigDecimal(v.toString()).longValueExact();
      } catch (ArithmeticException | NumberFormatException e) {
        return null;
      }
    }
    if (v instanceof String s) {
      String t = s.trim();
      if (t.matches("[+-]?\\d{1,18}")) {
        return Long.parseLong(t);
      }
    }
    return null;
  }

  static Boolean toBoolean(Object v) {
    if (v instanceof Boolean b) {
      return b;
    }
    if (v instanceof Number n && (n.doubleValue() == 0 || n.doubleValue() == 1)) {
      return n.doubleValue() == 1;
    }
    if (v instanceof String s) {
      return switch (s.trim().toLowerCase(Locale.ROOT)) {
        case "true", "t", "yes", "y", "on", "1" -> true;
        case "false", "f", "no", "n", "off", "0" -> false;
        default -> null;
      };
    }
    return null;
  }

  static String checkRange(long v, Long min, Long max) {
    if ((min != null && v < min) || (max != null && v > max)) {
      if (min != null && max != null) {
        return "Must be greater than or equal to " + min + " and less than or equal to " + max + ".";
      }
      return min != null ? "Must be greater than or equal to " + min + "." : "Must be less than or equal to " + max + ".";
    }
    return null;
  }
}
