package io.inferencegateway.simulator;

import io.vertx.core.json.JsonObject;

import java.util.Map;

/**
 * A snapshot of a simulator's counters, as served on {@code GET /sim/stats}.
 *
 * @param requests  requests received on the simulated (non-{@code /sim/}) paths since the last reset
 * @param completed responses the simulator finished normally, whatever their status
 * @param cancelled requests whose client went away before the response was finished
 * @param running   requests holding one of the {@code maxNumSeqs} slots now
 * @param waiting   requests queued for a slot now
 * @param byPath    requests per path ({@code other} for unknown paths)
 * @param faults    injected faults by kind: error, unavailable, hang, drop
 */
public record SimulatorStats(long requests, long completed, long cancelled, int running, int waiting,
    Map<String, Long> byPath, Map<String, Long> faults) {

  public SimulatorStats {
    byPath = Map.copyOf(byPath);
    faults = Map.copyOf(faults);
  }

  public JsonObject toJson() {
    JsonObject paths = new JsonObject();
    byPath.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> paths.put(e.getKey(), e.getValue()));
    JsonObject f = new JsonObject();
    faults.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> f.put(e.getKey(), e.getValue()));
    return new JsonObject()
        .put("requests", requests)
        .put("completed", completed)
        .put("cancelled", cancelled)
        .put("running", running)
        .put("waiting", waiting)
        .put("byPath", paths)
        .put("faults", f);
  }
}
