package io.inferencegateway.ingress;

import io.inferencegateway.support.Poll;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.UnauthorizedException;
import com.openai.errors.NotFoundException;
import com.openai.errors.RateLimitException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.inferencegateway.simulator.SimulatorVerticle;
import io.inferencegateway.support.GatewayHarness;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The official OpenAI Java SDK as a real client of the gateway, on MariaDB and Redis: content arrives, and each
 * request's usage row lands in MySQL with the token counts vLLM reported.
 */
class OpenAiSdkThroughGatewayTest {

  static final String MODEL = "NousResearch/Meta-Llama-3.1-8B-Instruct";
  static GatewayHarness gw;
  static GatewayHarness.Key key;

  @BeforeAll
  static void start() {
    gw = GatewayHarness.mariadb(true, c -> c);
    SimulatorVerticle sim = gw.simulator(0, GatewayHarness.simSettings(MODEL, new JsonObject().put("tokensPerAnswer", 7)));
    gw.replica(gw.model(MODEL), "http://127.0.0.1:" + sim.actualPort() + "/v1");
    key = gw.key("sdk-user", 1000, null, null, null);
  }

  @AfterAll
  static void stop() {
    gw.close();
  }

  static OpenAIClient client(String apiKey) {
    return OpenAIOkHttpClient.builder().baseUrl(gw.baseUrl + "/v1").apiKey(apiKey).maxRetries(0)
        .timeout(Duration.ofSeconds(30)).build();
  }

  RowSet<Row> rowsOfKey(long keyId, int expected) throws InterruptedException {
    return Poll.value(expected + " usage rows of key " + keyId, Duration.ofSeconds(10),
        () -> gw.app.services().database().pool()
            .preparedQuery("SELECT * FROM metrics WHERE api_key_id = ? ORDER BY id").execute(Tuple.of(keyId)).await(),
        rows -> rows.size() >= expected);
  }

  @Test
  void nonStreamingAndStreamingChatWithUsageRowsInMySql() throws InterruptedException {
    OpenAIClient openai = client(key.plaintext());
    try {
      ChatCompletion c = openai.chat().completions().create(ChatCompletionCreateParams.builder()
          .model(MODEL).addUserMessage("Hello, gateway").build());
      String text = c.choices().get(0).message().content().orElseThrow();
      assertThat(text.split(" ")).hasSize(7);
      long prompt = c.usage().orElseThrow().promptTokens();

      List<ChatCompletionChunk> chunks = new ArrayList<>();
      try (StreamResponse<ChatCompletionChunk> stream = openai.chat().completions().createStreaming(
          ChatCompletionCreateParams.builder().model(MODEL).addUserMessage("Hello, gateway").build())) {
        stream.stream().forEach(chunks::add);
      }
      StringBuilder streamed = new StringBuilder();
      chunks.forEach(ch -> ch.choices().forEach(choice -> choice.delta().content().ifPresent(streamed::append)));
      assertThat(streamed.toString()).isEqualTo(text);
      assertThat(chunks).allSatisfy(ch -> assertThat(ch.usage()).isEmpty()); // the client did not ask for usage

      RowSet<Row> rows = rowsOfKey(key.row().id(), 2);
      assertThat(rows.size()).isEqualTo(2);
      List<Row> list = new ArrayList<>();
      rows.forEach(list::add);
      for (Row row : list) {
        assertThat(row.getString("model")).isEqualTo(MODEL);
        assertThat(row.getInteger("status")).isEqualTo(200);
        assertThat(row.getInteger("prompt_tokens")).isEqualTo((int) prompt);
        assertThat(row.getInteger("completion_tokens")).isEqualTo(7);
        assertThat(row.getInteger("total_tokens")).isEqualTo((int) prompt + 7);
      }
      assertThat(list.get(0).getValue("stream")).isIn(false, 0, (short) 0, (byte) 0);
      assertThat(list.get(1).getValue("stream")).isIn(true, 1, (short) 1, (byte) 1);
    } finally {
      openai.close();
    }
  }

  @Test
  void sdkSeesTheGatewaysErrorsAsTypedExceptions() {
    OpenAIClient bad = client("sk-wrong");
    try {
      assertThatThrownBy(() -> bad.chat().completions().create(ChatCompletionCreateParams.builder()
          .model(MODEL).addUserMessage("hi").build())).isInstanceOf(UnauthorizedException.class);
    } finally {
      bad.close();
    }
    var limited = gw.key("tight", 1, null, null, null);
    OpenAIClient openai = client(limited.plaintext());
    try {
      openai.chat().completions().create(ChatCompletionCreateParams.builder().model(MODEL).addUserMessage("hi").build());
      assertThatThrownBy(() -> openai.chat().completions().create(ChatCompletionCreateParams.builder()
          .model(MODEL).addUserMessage("hi").build())).isInstanceOf(RateLimitException.class);
      assertThatThrownBy(() -> openai.chat().completions().create(ChatCompletionCreateParams.builder()
          .model("no/such").addUserMessage("hi").build())).isInstanceOf(NotFoundException.class);
    } finally {
      openai.close();
    }
  }
}
