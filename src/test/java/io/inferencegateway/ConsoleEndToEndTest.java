package io.inferencegateway;

import io.inferencegateway.config.ConfigLoader;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.simulator.SimulatorSettings;
import io.inferencegateway.simulator.SimulatorVerticle;
import io.inferencegateway.support.Browser;
import io.inferencegateway.support.TestServices;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The console in real headless Chromium against the gateway as {@code demo} starts it (embedded database, content
 * stored, the built-in simulator), with the real admin API: log in, add a model and a replica pointing at a second
 * simulator, create a key, chat in the Playground and watch the tokens arrive, find the request in Monitoring's table
 * and live panel, export the table as CSV, and see an expired session return to the login page. Screenshots of each
 * page go to {@code target/screenshots/}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleEndToEndTest {

  static final String PASSWORD = "e2e-console-password";
  static final String MODEL = "e2e/tiny-chat";
  static final String PROMPT = "Tell me about end-to-end tests";
  static final Path SHOTS = Path.of("target", "screenshots");
  static final Duration SLOW = Duration.ofSeconds(30);

  static GatewayApp app;
  static SimulatorVerticle simulator;
  static Browser browser;
  static String base;
  static String apiKey;

  @BeforeAll
  static void start() throws IOException {
    browser = Browser.start(1366, 900);
    Path dataDir = Files.createTempDirectory("igw-e2e");
    GatewayConfig config = GatewayConfig.fromJson(ConfigLoader.bundledDefaults())
        .withHttp(new GatewayConfig.Http("127.0.0.1", TestServices.freePort(), 2, 10 * 1024 * 1024))
        .withAppPassword(PASSWORD)
        .withDatabase(new GatewayConfig.Database(null, dataDir.toString(), 4))
        .withHealth(new GatewayConfig.Health(1000, 1000));
    app = Demo.start(config, TestServices.freePort()).await();
    base = "http://127.0.0.1:" + app.port();
    // the replica the test registers through the console: slow enough to see tokens arrive one by one
    simulator = new SimulatorVerticle(0, SimulatorSettings.defaults(List.of(MODEL)).merge(new JsonObject()
        .put("tokensPerAnswer", 40).put("timeToFirstTokenMs", 150).put("interTokenMs", 60)), "127.0.0.1");
    app.vertx().deployVerticle(simulator).await();
  }

  @AfterAll
  static void stop() {
    if (browser != null) {
      browser.close();
    }
    if (app != null) {
      app.close().await();
    }
  }

  void go(String page) {
    browser.driver.findElement(By.cssSelector("#nav a[data-page='" + page + "']")).click();
    browser.waitFor(d -> page.equals(d.findElement(By.id("view")).getAttribute("data-page")));
  }

  WebElement visible(By by) {
    return browser.waitFor(SLOW, d -> d.findElements(by).stream().filter(WebElement::isDisplayed).findFirst().orElse(null));
  }

  /** Waits for a message in the corner that contains the text. */
  void toast(String text) {
    browser.waitFor(SLOW, d -> d.findElements(By.cssSelector("#toasts .toast")).stream()
        .anyMatch(t -> t.getText().contains(text)));
  }

  @Test
  @Order(1)
  void logIn() throws IOException {
    browser.driver.get(base + "/");
    browser.waitFor(d -> d.getCurrentUrl().endsWith("#/login"));
    browser.screenshot(SHOTS, "01-login");
    // a wrong password shows the API's message
    browser.type(browser.byLabel("Console password"), "not-the-password");
    browser.button("Log in").click();
    WebElement error = visible(By.cssSelector(".login .notice.bad"));
    assertThat(error.getText()).containsIgnoringCase("password");

    browser.type(browser.byLabel("Console password"), PASSWORD);
    browser.button("Log in").click();
    browser.waitFor(d -> d.getCurrentUrl().endsWith("#/home"));
    WebElement status = visible(By.id("home-status"));
    assertThat(status.getText()).isIn("Healthy", "Degraded", "No replicas");
    // the demo's two preset models and the copy-ready snippets with this gateway's base URL
    browser.waitFor(d -> d.findElement(By.id("home-models-count")).getText().equals("2"));
    assertThat(browser.driver.findElement(By.cssSelector(".code pre")).getText()).contains(base + "/v1/chat/completions");
    Object stored = browser.script("return JSON.stringify(Object.assign({}, sessionStorage))");
    assertThat(String.valueOf(stored)).doesNotContain("sk-admin");
    browser.waitFor(d -> d.findElement(By.id("feed-status")).getText().equals("Live feed: on"));
    browser.screenshot(SHOTS, "02-home");
  }

  @Test
  @Order(2)
  void addAModelAndAReplica() throws IOException {
    go("models");
    browser.type(browser.byLabel("Model name"), MODEL);
    browser.button("Add model").click();
    visible(By.cssSelector("section.model[data-model='" + MODEL + "']"));
    toast("Model " + MODEL + " added.");

    browser.button("Add a replica to " + MODEL).click();
    browser.type(browser.byLabel("Endpoint URL"), "http://127.0.0.1:" + simulator.actualPort());
    browser.byLabel("Rate limit (requests per minute)").sendKeys("600");
    visible(By.cssSelector("dialog[open] button[type='submit']")).click();
    toast("added to " + MODEL);
    String row = "section.model[data-model='" + MODEL + "'] tr[data-replica]";
    // the list re-renders after each change: look the row up afresh each time
    browser.waitFor(SLOW, d -> d.findElement(By.cssSelector(row)).getText()
        .contains("http://127.0.0.1:" + simulator.actualPort()));
    assertThat(browser.driver.findElement(By.cssSelector(row + " td[data-col='rate-limit']")).getText()).isEqualTo("600/min");
    browser.waitFor(SLOW, d -> d.findElement(By.cssSelector(row + " td[data-col='health']")).getText().equals("healthy"));
    assertThat(browser.driver.findElement(By.cssSelector(row + " td[data-col='breaker']")).getText()).isEqualTo("closed");

    // edit the replica's rate limit
    browser.button("Edit the rate limit of replica " + browser.driver.findElement(By.cssSelector(row)).getAttribute("data-replica")).click();
    browser.type(browser.byLabel("Requests per minute"), "300");
    visible(By.cssSelector("dialog[open] button[type='submit']")).click();
    browser.waitFor(SLOW, d -> d.findElement(By.cssSelector(row + " td[data-col='rate-limit']")).getText().equals("300/min"));

    // a model added by mistake is deleted, after a warning about cloud VMs
    browser.type(browser.byLabel("Model name"), "e2e/mistake");
    browser.button("Add model").click();
    visible(By.cssSelector("section.model[data-model='e2e/mistake']"));
    browser.button("Delete model e2e/mistake").click();
    assertThat(visible(By.cssSelector("dialog[open]")).getText()).contains("VMs");
    browser.driver.findElement(By.xpath("//dialog[@open]//button[normalize-space()='Delete model']")).click();
    browser.waitFor(SLOW, d -> d.findElements(By.cssSelector("section.model[data-model='e2e/mistake']")).isEmpty());
    toast("Model e2e/mistake deleted.");
    browser.screenshot(SHOTS, "03-models");

    browser.resize(390, 844);
    browser.screenshot(SHOTS, "03-models-narrow");
    browser.resize(1366, 900);
  }

  @Test
  @Order(3)
  void createAKey() throws IOException {
    go("keys");
    browser.type(browser.byLabel("User ID"), "e2e-user");
    browser.byLabel("Requests per minute").sendKeys("120");
    new Select(browser.byLabel("Allowed models")).selectByVisibleText(MODEL);
    browser.button("Create key").click();
    WebElement secret = visible(By.id("new-key-value"));
    apiKey = secret.getText().trim();
    assertThat(apiKey).startsWith("sk-");
    WebElement list = visible(By.id("key-list"));
    browser.waitFor(d -> list.getText().contains("e2e-user"));
    String prefix = apiKey.substring(0, 8);
    assertThat(list.getText()).contains(MODEL);
    assertThat(browser.driver.getPageSource()).contains(prefix);
    browser.screenshot(SHOTS, "04-api-keys");
  }

  @Test
  @Order(4)
  void chatWithStreamingInThePlayground() throws IOException, InterruptedException {
    go("playground");
    Select model = new Select(browser.byLabel("Model"));
    browser.waitFor(d -> model.getOptions().stream().anyMatch(o -> o.getText().equals(MODEL)));
    model.selectByVisibleText(MODEL);
    // the key just created (allowed on this model only), pasted as an operator would
    new Select(browser.byLabel("API key for /v1")).selectByValue("paste");
    browser.type(browser.byLabel("API key"), apiKey);
    WebElement input = browser.driver.findElement(By.id("chat-input"));
    input.sendKeys(PROMPT);
    browser.driver.findElement(By.id("chat-send")).click();

    // poll the reply while it streams: its text must grow several times before the stream ends
    List<Integer> lengths = new ArrayList<>();
    long deadline = System.currentTimeMillis() + 30_000;
    boolean streaming = true;
    while (System.currentTimeMillis() < deadline && streaming) {
      Object state = browser.script("const r = document.getElementById('chat-reply');"
          + "return r ? [r.classList.contains('streaming'), r.querySelector('.text').textContent.length] : null;");
      if (state instanceof List<?> s) {
        streaming = Boolean.TRUE.equals(s.get(0));
        int len = ((Number) s.get(1)).intValue();
        if (streaming && len > 0 && (lengths.isEmpty() || lengths.get(lengths.size() - 1) != len)) {
          lengths.add(len);
        }
      }
      Thread.sleep(25);
    }
    assertThat(streaming).as("the stream ended").isFalse();
    assertThat(lengths).as("the reply grew while streaming: %s", lengths).hasSizeGreaterThanOrEqualTo(3).isSorted();
    WebElement reply = visible(By.cssSelector("#chat-messages .msg.assistant"));
    assertThat(reply.getText()).isNotBlank();
    assertThat(reply.findElement(By.cssSelector(".meta")).getText()).contains(MODEL).contains("completion tokens");
    assertThat(browser.driver.findElement(By.cssSelector("#chat-messages .msg.user")).getText()).isEqualTo(PROMPT);
    // the equivalent code follows the settings
    assertThat(browser.driver.findElement(By.cssSelector(".code pre")).getText()).contains(MODEL).contains("\"stream\": true");
    browser.screenshot(SHOTS, "05-playground");

    // stream off, with the temporary key the console makes for itself (user console-playground, one hour)
    new Select(browser.byLabel("API key for /v1")).selectByValue("temporary");
    browser.driver.findElement(By.id("pg-stream")).click();
    browser.driver.findElement(By.id("chat-input")).sendKeys("And once more, all at once");
    browser.driver.findElement(By.id("chat-send")).click();
    browser.waitFor(SLOW, d -> d.findElements(By.cssSelector("#chat-messages .msg.assistant")).size() == 2
        && d.findElements(By.cssSelector("#chat-messages .msg.assistant .meta")).size() == 2);
    assertThat(browser.driver.findElements(By.cssSelector("#chat-messages .msg.error"))).isEmpty();
    assertThat(browser.driver.findElement(By.cssSelector(".code pre")).getText()).doesNotContain("\"stream\"");
  }

  @Test
  @Order(5)
  void seeTheRequestInMonitoringAndExportCsv() throws IOException {
    go("monitoring");
    // live panel: the summaries since login include the Playground's request
    browser.waitFor(SLOW, d -> {
      String total = d.findElement(By.id("live-total-requests")).getText().replace(",", "");
      return !total.isEmpty() && !total.equals("—") && Integer.parseInt(total) >= 1;
    });
    // the metrics table, newest first: the request, with its model and (demo mode) its content
    browser.waitFor(SLOW, d -> {
      List<WebElement> cells = d.findElements(By.cssSelector("#data-table td[data-col='model']"));
      if (cells.stream().noneMatch(c -> c.getText().equals(MODEL))) {
        d.findElement(By.id("table-refresh")).click();
        return false;
      }
      return true;
    });
    assertThat(new Select(browser.byLabel("Table")).getFirstSelectedOption().getText()).isEqualTo("metrics");
    browser.screenshot(SHOTS, "06-monitoring");

    browser.driver.findElement(By.id("table-export")).click();
    Path csv = browser.waitFor(SLOW, d -> {
      try (Stream<Path> files = Files.list(browser.downloads)) {
        return files.filter(p -> p.getFileName().toString().endsWith(".csv")).findFirst().orElse(null);
      } catch (IOException e) {
        return null;
      }
    });
    String content = Files.readString(csv);
    String header = content.substring(0, content.indexOf("\r\n"));
    assertThat(header).contains("request_id").contains("model").contains("completion_tokens");
    assertThat(content).contains(MODEL).contains(PROMPT);
    assertThat(csv.getFileName().toString()).startsWith("metrics-");
  }

  @Test
  @Order(6)
  void logOutAndInAgain() {
    browser.button("Log out").click();
    browser.waitFor(SLOW, d -> d.getCurrentUrl().endsWith("#/login"));
    assertThat(visible(By.cssSelector(".login .notice.info")).getText()).contains("logged out");
    assertThat(browser.script("return sessionStorage.getItem('igw.session.token')")).isNull();
    browser.type(browser.byLabel("Console password"), PASSWORD);
    browser.button("Log in").click();
    browser.waitFor(d -> d.getCurrentUrl().endsWith("#/home"));
  }

  @Test
  @Order(7)
  void anExpiredSessionReturnsToTheLoginPage() {
    browser.script("sessionStorage.setItem('igw.session.token', 'eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2lnbmF0dXJl')");
    browser.driver.findElement(By.cssSelector("#nav a[data-page='keys']")).click();
    browser.waitFor(SLOW, d -> d.getCurrentUrl().endsWith("#/login"));
    assertThat(visible(By.cssSelector(".login .notice.info")).getText()).contains("expired");
    assertThat(browser.script("return sessionStorage.getItem('igw.session.token')")).isNull();
  }
}
