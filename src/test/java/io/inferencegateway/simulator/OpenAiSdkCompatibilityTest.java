package io.inferencegateway.simulator;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.NotFoundException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The official OpenAI Java SDK parses everything the simulator sends, as it does with vLLM. */
class OpenAiSdkCompatibilityTest extends SimulatorTestBase {

  private OpenAIClient openai;

  @BeforeEach
  void startSimulator() {
    SimulatorVerticle sim = deploy(settings(new JsonObject().put("tokensPerAnswer", 6)));
    openai = OpenAIOkHttpClient.builder()
        .baseUrl("http://127.0.0.1:" + sim.actualPort() + "/v1")
        .apiKey("sk-simulator")
        .maxRetries(0)
        .timeout(Duration.ofSeconds(30))
        .build();
  }

  @AfterEach
  void closeClient() {
    openai.close();
  }

  @Test
  void chatCompletion() {
    ChatCompletion c = openai.chat().completions().create(ChatCompletionCreateParams.builder()
        .model(MODEL).addUserMessage("Say hello").build());
    assertThat(c.model()).isEqualTo(MODEL);
    assertThat(c.choices()).hasSize(1);
    assertThat(c.choices().get(0).message().content()).hasValueSatisfying(t -> assertThat(t.split(" ")).hasSize(6));
    assertThat(c.choices().get(0).finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.STOP);
    assertThat(c.usage()).hasValueSatisfying(u -> {
      assertThat(u.completionTokens()).isEqualTo(6);
      assertThat(u.promptTokens()).isEqualTo(8);
      assertThat(u.totalTokens()).isEqualTo(14);
    });
  }

  @Test
  void chatStream() {
    List<ChatCompletionChunk> chunks = new ArrayList<>();
    try (StreamResponse<ChatCompletionChunk> stream = openai.chat().completions().createStreaming(
        ChatCompletionCreateParams.builder().model(MODEL).addUserMessage("Say hello").maxCompletionTokens(4)
            .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
      stream.stream().forEach(chunks::add);
    }
    StringBuilder text = new StringBuilder();
    chunks.stream().flatMap(c -> c.choices().stream()).forEach(ch -> ch.delta().content().ifPresent(text::append));
    assertThat(text.toString().split(" ")).hasSize(4);
    ChatCompletionChunk last = chunks.get(chunks.size() - 1);
    assertThat(last.choices()).isEmpty();
    assertThat(last.usage()).hasValueSatisfying(u -> assertThat(u.completionTokens()).isEqualTo(4));
    assertThat(chunks.get(chunks.size() - 2).choices().get(0).finishReason())
        .hasValue(ChatCompletionChunk.Choice.FinishReason.LENGTH);
  }

  @Test
  void completionAndEmbeddings() {
    Completion completion = openai.completions().create(CompletionCreateParams.builder()
        .model(OTHER_MODEL).prompt("Once upon a time").maxTokens(3).build());
    // Completion tokens carry their leading space, so prompt + text splits into words.
    assertThat(completion.choices().get(0).text()).startsWith(" ");
    assertThat(completion.choices().get(0).text().trim().split(" ")).hasSize(3);

    CreateEmbeddingResponse floats = openai.embeddings().create(EmbeddingCreateParams.builder()
        .model(MODEL).input("hello world").encodingFormat(EmbeddingCreateParams.EncodingFormat.FLOAT).build());
    assertThat(floats.data().get(0).embedding()).hasSize(384);
    CreateEmbeddingResponse base64 = openai.embeddings().create(EmbeddingCreateParams.builder()
        .model(MODEL).input("hello world").encodingFormat(EmbeddingCreateParams.EncodingFormat.BASE64).build());
    assertThat(base64.data().get(0).embedding()).isEqualTo(floats.data().get(0).embedding());
  }

  @Test
  void unknownModelIsANotFoundError() {
    assertThatThrownBy(() -> openai.chat().completions().create(ChatCompletionCreateParams.builder()
        .model("gpt-4o").addUserMessage("hi").build()))
        .isInstanceOf(NotFoundException.class)
        .hasMessageContaining("The model `gpt-4o` does not exist.");
  }
}
