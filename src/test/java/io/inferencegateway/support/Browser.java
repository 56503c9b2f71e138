package io.inferencegateway.support;

import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * Headless Chromium for end-to-end tests: Debian's {@code /usr/bin/chromium} driven through Debian's
 * {@code /usr/bin/chromedriver}, named explicitly so Selenium Manager never downloads anything. A fresh profile and
 * download directory per browser. Missing packages skip the test, or fail it when {@code CI=true}.
 */
public final class Browser implements AutoCloseable {

  public static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  public static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

  public final WebDriver driver;
  public final Path downloads;
  private final Path profile;

  private Browser(WebDriver driver, Path downloads, Path profile) {
    this.driver = driver;
    this.downloads = downloads;
    this.profile = profile;
  }

  /** Starts the browser, or skips the test (fails it under CI) when chromium or chromedriver is not installed. */
  public static Browser start(int width, int height) throws IOException {
    if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
      String what = "Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver)";
      if (TestServices.ci()) {
        throw new AssertionError("CI=true and a required tool is missing: " + what);
      }
      Assumptions.abort("skipped: no " + what);
    }
    // Selenium Manager would look for (and download) drivers: name ours, so it never runs
    System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
    System.setProperty("SE_AVOID_STATS", "true");
    Path profile = Files.createTempDirectory("igw-chromium-profile");
    Path downloads = Files.createTempDirectory("igw-chromium-downloads");
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
        "--user-data-dir=" + profile, "--window-size=" + width + "," + height);
    Map<String, Object> prefs = new HashMap<>();
    prefs.put("download.default_directory", downloads.toString());
    prefs.put("download.prompt_for_download", false);
    prefs.put("safebrowsing.enabled", false);
    options.setExperimentalOption("prefs", prefs);
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(CHROMEDRIVER.toFile())
        .usingAnyFreePort()
        .build();
    ChromeDriver driver = new ChromeDriver(service, options);
    driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
    driver.manage().window().setSize(new Dimension(width, height));
    return new Browser(driver, downloads, profile);
  }

  public <T> T waitFor(Duration timeout, Function<WebDriver, T> condition) {
    // pages re-render what they show: an element found a moment ago may be gone, so look again
    return new WebDriverWait(driver, timeout, Duration.ofMillis(100))
        .ignoring(StaleElementReferenceException.class).until(condition);
  }

  public <T> T waitFor(Function<WebDriver, T> condition) {
    return waitFor(Duration.ofSeconds(20), condition);
  }

  /** The form control whose label reads exactly {@code text} (labels point at their control with for=). */
  public WebElement byLabel(String text) {
    WebElement label = waitFor(d -> d.findElements(By.xpath("//label[normalize-space()=" + xpathString(text) + "]"))
        .stream().filter(WebElement::isDisplayed).findFirst().orElse(null));
    return driver.findElement(By.id(label.getAttribute("for")));
  }

  /** A visible button by its text or its aria-label. */
  public WebElement button(String text) {
    String t = xpathString(text);
    return waitFor(d -> d.findElements(By.xpath("//button[normalize-space()=" + t + " or @aria-label=" + t + "]"))
        .stream().filter(e -> e.isDisplayed() && e.isEnabled()).findFirst().orElse(null));
  }

  public void type(WebElement input, String text) {
    input.clear();
    input.sendKeys(text);
  }

  public Object script(String js, Object... args) {
    return ((org.openqa.selenium.JavascriptExecutor) driver).executeScript(js, args);
  }

  /** Writes a PNG screenshot of the whole page (the window grows to the page's height meanwhile) to {@code dir/name.png}. */
  public Path screenshot(Path dir, String name) throws IOException {
    Files.createDirectories(dir);
    Dimension size = driver.manage().window().getSize();
    long pageHeight = ((Number) script("return Math.ceil(document.documentElement.scrollHeight)")).longValue();
    if (pageHeight > size.getHeight()) {
      driver.manage().window().setSize(new Dimension(size.getWidth(), (int) Math.min(pageHeight + 120, 6000)));
    }
    File shot;
    try {
      shot = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
    } finally {
      driver.manage().window().setSize(size);
    }
    Path target = dir.resolve(name + ".png");
    Files.copy(shot.toPath(), target, StandardCopyOption.REPLACE_EXISTING);
    return target;
  }

  public void resize(int width, int height) {
    driver.manage().window().setSize(new Dimension(width, height));
  }

  static String xpathString(String s) {
    if (!s.contains("'")) {
      return "'" + s + "'";
    }
    return "concat('" + s.replace("'", "', \"'\", '") + "')";
  }

  @Override
  public void close() {
    try {
      driver.quit();
    } finally {
      deleteQuietly(profile);
    }
  }

  private static void deleteQuietly(Path dir) {
    try (var walk = Files.walk(dir)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | RuntimeException e) {
      // a temp dir; the OS cleans it eventually
    }
  }
}
