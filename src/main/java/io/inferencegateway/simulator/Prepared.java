package io.inferencegateway.simulator;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/** Settings plus what is derived from them once, so requests don't redo it. Swapped whole on update. */
final class Prepared {

  final SimulatorSettings settings;
  final Set<String> models;
  /** Model names as JSON string literals. */
  final Map<String, String> quotedModels;
  final byte[] modelList;
  /** Fault draws; used on the event loop only, reseeded on every settings update. */
  final SplittableRandom faults;

  Prepared(SimulatorSettings settings) {
    this.settings = settings;
    this.models = Set.copyOf(settings.models());
    Map<String, String> quoted = new HashMap<>();
    for (String m : settings.models()) {
      quoted.put(m, JsonText.quote(m));
    }
    this.quotedModels = Map.copyOf(quoted);
    this.modelList = modelList(settings, quotedModels);
    this.faults = new SplittableRandom(settings.seed());
  }

  private static byte[] modelList(SimulatorSettings s, Map<String, String> quoted) {
    long created = System.currentTimeMillis() / 1000;
    StringBuilder sb = new StringBuilder(512);
    sb.append("{\"object\":\"list\",\"data\":[");
    for (int i = 0; i < s.models().size(); i++) {
      String q = quoted.get(s.models().get(i));
      if (i > 0) {
        sb.append(',');
      }
      sb.append("{\"id\":").append(q).append(",\"object\":\"model\",\"created\":").append(created)
          .append(",\"owned_by\":\"vllm\",\"root\":").append(q).append(",\"parent\":null,\"max_model_len\":")
          .append(s.maxModelLen()).append(",\"permission\":[{\"id\":\"modelperm-")
          .append(JsonText.randomHex(java.util.concurrent.ThreadLocalRandom.current()))
          .append("\",\"object\":\"model_permission\",\"created\":").append(created)
          .append(",\"allow_create_engine\":false,\"allow_sampling\":true,\"allow_logprobs\":true,"
              + "\"allow_search_indices\":false,\"allow_view\":true,\"allow_fine_tuning\":false,"
              + "\"organization\":\"*\",\"group\":null,\"is_blocking\":false}]}");
    }
    sb.append("]}");
    return sb.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }
}
