package io.inferencegateway.admin;

import io.inferencegateway.store.MetricsStore;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The marshmallow-shaped validation helpers, path decoding, and the usage series arithmetic, without a server. */
class ValidationTest {

  @Test
  void errorsNestLikeMarshmallowAndUntouchedChildrenLeaveNoTrace() {
    FieldErrors errors = new FieldErrors();
    FieldErrors vm = errors.child("vm_creation_details");
    vm.child("security_rules").child(0).add("port_range_min", "Not a valid integer.");
    errors.child("unused").child(3);
    errors.add("user_id", "Missing data for required field.");
    errors.add("user_id", "second");
    vm.addSchema("Invalid input type.");
    assertThat(errors.toJson()).isEqualTo(new JsonObject()
        .put("vm_creation_details", new JsonObject()
            .put("security_rules", new JsonObject().put("0", new JsonObject()
                .put("port_range_min", new JsonArray().add("Not a valid integer."))))
            .put("_schema", new JsonArray().add("Invalid input type.")))
        .put("user_id", new JsonArray().add("Missing data for required field.").add("second")));
    assertThatThrownBy(errors::throwIfAny).isInstanceOfSatisfying(AdminFailure.class, f -> {
      assertThat(f.status()).isEqualTo(400);
      assertThat(f.body().getJsonObject("errors")).isEqualTo(errors.toJson());
    });
    FieldErrors none = new FieldErrors();
    none.child("a").child("b");
    assertThat(none.isEmpty()).isTrue();
    none.throwIfAny();
  }

  @Test
  void fieldsAreReadAsMarshmallowDid() {
    FieldErrors errors = new FieldErrors();
    JsonInput in = new JsonInput(new JsonObject().put("s", "x").put("n", "42").put("f", 2.0).put("bad", 2.5)
        .put("big", "99999999999999999999").put("b", "yes").put("nb", 2).put("nul", (Object) null).put("extra", 1)
        .put("l", new JsonArray()).put("o", "str"), errors, "s", "n", "f", "bad", "big", "b", "nb", "nul", "l", "o", "m");
    assertThat(in.string("s", true, false)).isEqualTo("x");
    assertThat(in.integer("n", true, false, null, null)).isEqualTo(42);
    assertThat(in.integer("f", true, false, null, null)).isEqualTo(2);
    assertThat(in.integer("bad", true, false, null, null)).isNull();
    assertThat(in.integer("big", true, false, null, null)).isNull();
    assertThat(in.bool("b", false)).isTrue();
    assertThat(in.bool("nb", false)).isNull();
    assertThat(in.string("nul", false, true)).isNull();
    assertThat(in.integer("nul", false, false, null, null)).isNull();
    assertThat(in.list("l", true, false)).isEmpty();
    assertThat(in.object("o", true)).isNull();
    assertThat(in.string("m", true, false)).isNull();
    assertThat(in.bool("absent", true)).isTrue();
    in.rejectUnknown();
    assertThat(errors.toJson()).isEqualTo(new JsonObject()
        .put("bad", new JsonArray().add("Not a valid integer."))
        .put("big", new JsonArray().add("Not a valid integer."))
        .put("nb", new JsonArray().add("Not a valid boolean."))
        .put("nul", new JsonArray().add("Field may not be null."))
        .put("o", new JsonObject().put("_schema", new JsonArray().add("Invalid input type.")))
        .put("m", new JsonArray().add("Missing data for required field."))
        .put("extra", new JsonArray().add("Unknown field.")));
    assertThat(JsonInput.toLong(true)).isNull();
    assertThat(JsonInput.toLong(" -7 ")).isEqualTo(-7);
    assertThat(JsonInput.checkRange(5, 1L, null)).isNull();
    assertThat(JsonInput.checkRange(0, 1L, null)).isEqualTo("Must be greater than or equal to 1.");
    assertThat(JsonInput.checkRange(9, null, 8L)).isEqualTo("Must be less than or equal to 8.");
  }

  @Test
  void bodiesMustBeOneJsonObject() {
    assertThat(JsonInput.parseObject(Buffer.buffer("{\"a\": 1}")).getInteger("a")).isEqualTo(1);
    for (String bad : new String[] {"", "  ", "{", "[1]", "\"text\"", "null", "42", "<xml/>"}) {
      assertThatThrownBy(() -> JsonInput.parseObject(Buffer.buffer(bad))).as(bad)
          .isInstanceOfSatisfying(AdminFailure.class, f -> {
            assertThat(f.status()).isEqualTo(400);
            assertThat(f.body().getJsonObject("errors").getJsonArray("_schema")).hasSize(1);
          });
    }
    assertThatThrownBy(() -> JsonInput.parseObject(null)).isInstanceOf(AdminFailure.class);
  }

  @Test
  void modelNamesAreTakenFromThePathDecodedOnce() {
    assertThat(ModelHandlers.modelNameFromPath("/api/v1/models/NousResearch/Meta-Llama-3.1-8B-Instruct"))
        .isEqualTo("NousResearch/Meta-Llama-3.1-8B-Instruct");
    assertThat(ModelHandlers.modelNameFromPath("/api/v1/models/NousResearch%2FMeta-Llama-3.1-8B-Instruct"))
        .isEqualTo("NousResearch/Meta-Llama-3.1-8B-Instruct");
    assertThat(ModelHandlers.modelNameFromPath("/api/v1/models/a%252Fb")).isEqualTo("a%2Fb");
    assertThat(ModelHandlers.modelNameFromPath("/api/v1/models/caf%C3%A9+x")).isEqualTo("café+x");
    assertThat(ModelHandlers.modelNameFromPath("/api/v1/models/bad%2")).isNull();
    assertThat(ModelHandlers.modelNameFromPath("/api/v1/models/bad%zz")).isNull();
    assertThat(ModelHandlers.modelNameFromPath("/api/v1/other/x")).isNull();
    assertThat(PercentDecoder.decode("emoji-\uD83D\uDE00")).isEqualTo("emoji-\uD83D\uDE00");
  }

  @Test
  void ipPrefixesAreCheckedAgainstTheEthertype() {
    assertThat(ReplicaHandlers.validPrefix("0.0.0.0/0", "IPv4")).isTrue();
    assertThat(ReplicaHandlers.validPrefix("203.0.113.7", "IPv4")).isTrue();
    assertThat(ReplicaHandlers.validPrefix("203.0.113.7/32", "IPv4")).isTrue();
    assertThat(ReplicaHandlers.validPrefix("256.0.0.1/32", "IPv4")).isFalse();
    assertThat(ReplicaHandlers.validPrefix("10.0.0.0/33", "IPv4")).isFalse();
    assertThat(ReplicaHandlers.validPrefix("::/0", "IPv4")).isFalse();
    assertThat(ReplicaHandlers.validPrefix("::/0", "IPv6")).isTrue();
    assertThat(ReplicaHandlers.validPrefix("2001:db8::/64", "IPv6")).isTrue();
    assertThat(ReplicaHandlers.validPrefix("2001:db8::/129", "IPv6")).isFalse();
    assertThat(ReplicaHandlers.validPrefix("example.com/8", "IPv4")).isFalse();
    assertThat(ReplicaHandlers.validPrefix("1.2.3.4/8/9", "IPv4")).isFalse();
  }

  @Test
  void expiryTimesAcceptIsoWithOrWithoutOffset() {
    assertThat(ApiKeyHandlers.parseTime("2030-01-02T03:04:05Z")).hasToString("2030-01-02T03:04:05Z");
    assertThat(ApiKeyHandlers.parseTime("2030-01-02T05:04:05+02:00")).hasToString("2030-01-02T03:04:05Z");
    assertThat(ApiKeyHandlers.parseTime("2030-01-02T03:04:05")).hasToString("2030-01-02T03:04:05Z");
    assertThat(ApiKeyHandlers.parseTime("2030-01-02")).hasToString("2030-01-02T00:00:00Z");
    assertThat(ApiKeyHandlers.parseTime("tomorrow")).isNull();
  }

  @Test
  void seriesFillEveryBucketAndTakeNearestRankPercentiles() {
    double[] sorted = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
    assertThat(UsageHandlers.percentile(sorted, 0.5)).isEqualTo(0.5);
    assertThat(UsageHandlers.percentile(sorted, 0.95)).isEqualTo(1.0);
    assertThat(UsageHandlers.percentile(new double[] {2.0}, 0.95)).isEqualTo(2.0);

    List<MetricsStore.BucketTotals> totals = List.of(new MetricsStore.BucketTotals(11, "m", 2, 1, 10, 20, 0.3, 0.5));
    List<MetricsStore.BucketDuration> durations = List.of(new MetricsStore.BucketDuration(11, "m", 0.5),
        new MetricsStore.BucketDuration(11, "m", 0.1));
    JsonArray exact = UsageHandlers.series(100, 140, 10, MetricsStore.GroupBy.MODEL, totals, durations);
    assertThat(exact).hasSize(1);
    JsonArray points = exact.getJsonObject(0).getJsonArray("points");
    assertThat(points.stream().map(p -> ((JsonObject) p).getLong("t"))).containsExactly(100L, 110L, 120L, 130L);
    JsonObject busy = points.getJsonObject(1);
    assertThat(busy.getLong("requests")).isEqualTo(2);
    assertThat(busy.getLong("errors")).isEqualTo(1);
    assertThat(busy.getDouble("latency_p50")).isEqualTo(0.1);
    assertThat(busy.getDouble("latency_p95")).isEqualTo(0.5);
    assertThat(points.getJsonObject(0).getLong("requests")).isZero();
    assertThat(points.getJsonObject(0).getValue("latency_p50")).isNull();

    JsonArray approximate = UsageHandlers.series(100, 140, 10, MetricsStore.GroupBy.MODEL, totals, null);
    JsonObject approx = approximate.getJsonObject(0).getJsonArray("points").getJsonObject(1);
    assertThat(approx.getDouble("latency_p50")).isEqualTo(0.3);
    assertThat(approx.getDouble("latency_p95")).isEqualTo(0.5);

    JsonArray empty = UsageHandlers.series(100, 140, 10, MetricsStore.GroupBy.NONE, List.of(), List.of());
    assertThat(empty).hasSize(1);
    assertThat(empty.getJsonObject(0).getValue("group")).isNull();
    assertThat(UsageHandlers.series(100, 140, 10, MetricsStore.GroupBy.API_KEY, List.of(), List.of())).isEmpty();
  }
}
