package io.inferencegateway.config;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeoutException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Control-plane changes go out on the event bus; the publisher learns when this instance applied them. */
class AnnouncementsTest {

  Vertx vertx;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  @Test
  void completesOnceTheApplyingComponentSaysSoAndEveryListenerGetsIt() {
    Announcements announcements = new Announcements(vertx, 5000);
    List<JsonObject> applied = new CopyOnWriteArrayList<>();
    List<JsonObject> seen = new CopyOnWriteArrayList<>();
    vertx.eventBus().<JsonObject>consumer("test.changed", msg -> vertx.setTimer(50, t -> {
      applied.add(msg.body());
      announcements.applied(msg, null);
    })).completion().await();
    vertx.eventBus().<JsonObject>consumer("test.changed", msg -> seen.add(msg.body())).completion().await();
    announcements.publish("test.changed", new JsonObject().put("id", 1)).await();
    assertThat(applied).as("applied before the publisher goes on").containsExactly(new JsonObject().put("id", 1));
    assertThat(seen).hasSize(1);
  }

  @Test
  void aFailureToApplyReachesThePublisher() {
    Announcements announcements = new Announcements(vertx, 5000);
    vertx.eventBus().consumer("test.changed", msg -> announcements.applied(msg, new IllegalStateException("db down")))
        .completion().await();
    assertThatThrownBy(() -> announcements.publish("test.changed", new JsonObject()).await()).hasMessage("db down");
  }

  @Test
  void noOneApplyingTimesOut() {
    Announcements announcements = new Announcements(vertx, 100);
    assertThatThrownBy(() -> announcements.publish("test.nobody", new JsonObject()).await())
        .isInstanceOf(TimeoutException.class);
  }
}
