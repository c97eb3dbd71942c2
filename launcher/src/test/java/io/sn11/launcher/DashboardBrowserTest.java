package io.sn11.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sn11.cluster.node.Sn11Node;
import io.sn11.coordinator.http.ApiNode;
import io.sn11.coordinator.http.ApiNode.Model;
import io.sn11.coordinator.testing.Eventually;
import io.sn11.gpunode.worker.GpuNodeRole;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The dashboard in a real headless Chromium (Debian's chromium and chromium-driver, driven by Selenium):
 * a submitted model appears, the page follows it to COMPLETED without reloading, the gpu-node and its
 * slot appear when it joins, sorting and the model's history work, and the weights chart draws a line
 * per uid. Screenshots go to {@code target/dashboard-screenshots/}.
 *
 * <p>A missing browser is installed with apt-get where the test runs as root ({@link SystemChromium});
 * where that cannot be done the test is skipped with the reason, except under CI, where it fails.
 */
class DashboardBrowserTest {
  private static final Duration PAGE_DEADLINE = Duration.ofSeconds(30);
  private static final Duration EVALUATION_DEADLINE = Duration.ofMinutes(3);
  private static final Path SCREENSHOTS = Path.of("target", "dashboard-screenshots");

  @TempDir static Path dir;
  private static TestCluster cluster;
  private static WebDriver browser;

  @BeforeAll
  static void start() throws Exception {
    SystemChromium.Result found = SystemChromium.find();
    if (found.missing() != null && "true".equals(System.getenv("CI"))) throw new AssertionError(found.missing());
    Assumptions.assumeTrue(found.missing() == null, found::missing);
    SystemChromium chromium = found.chromium().get();

    ChromeOptions options = new ChromeOptions();
    options.setBinary(chromium.browser().toFile());
    options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1200");
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(chromium.driver().toFile()).usingAnyFreePort().build();
    cluster = TestCluster.start(dir);
    browser = new ChromeDriver(service, options);
    Files.createDirectories(SCREENSHOTS);
  }

  @AfterAll
  static void stop() throws Exception {
    if (browser != null) browser.quit();
    if (cluster != null) cluster.close();
  }

  @Test
  void theDashboardFollowsASubmittedModelToCompletionWithoutReloading() throws Exception {
    ApiNode api = cluster.coordinator;
    Model tiny = ApiNode.model("sn11-demo", "tiny-llama", ApiNode.hotkey("dashboard-tiny"), 200);
    Model missing = ApiNode.model("sn11-demo", "not-in-the-store", ApiNode.hotkey("dashboard-missing"), 100);

    browser.get(api.base() + "/");
    // Set once; a reload would lose it.
    js("window.sn11LoadedOnce = true;");
    awaitText("#live", "live");

    // No gpu-node yet: the models stay queued, and the page must show them as such.
    api.adminPost("/check_model", tiny.json()).expect(200);
    api.adminPost("/check_model", missing.json()).expect(200);
    awaitPage(() -> statusOf(tiny).equals("QUEUED") && statusOf(missing).equals("QUEUED"));
    awaitPage(() -> browser.findElements(By.cssSelector("#queue tbody tr")).size() == 2);
    assertEquals(List.of("coordinator"), rolesShown());
    screenshot("1-queued");

    try (Sn11Node gpuNode = cluster.startGpuNode("gpu", new GpuNodeRole())) {
      awaitPage(() -> rolesShown().contains("gpu-node") && !browser.findElements(By.cssSelector(".slot")).isEmpty());
      // Its scoring fingerprint, adopted as the required one: shown, and not marked as a mismatch.
      String required =
          ApiNode.await("the gpu-node's fingerprint adopted", () -> api.get("/scoring/fingerprint").expect(200).body(), v -> v.path("required").isObject())
              .path("required")
              .path("id")
              .asText();
      awaitPage(() -> browser.findElement(By.id("required-fingerprint")).getText().contains(required));
      awaitPage(() -> browser.findElement(By.cssSelector("#nodes .fingerprint")).getText().equals("fingerprint " + required));
      assertTrue(browser.findElements(By.cssSelector("#nodes .mismatch")).isEmpty(), "the only gpu-node matches");
      Eventually.await(EVALUATION_DEADLINE, () -> statusOf(tiny).equals("COMPLETED") && statusOf(missing).equals("FAILED"));
      screenshot("2-completed");

      JsonNode record = api.get("/model_submission_details?" + ApiNode.query(tiny.queryFields())).expect(200).body();
      String total = String.format("%.4f", record.path("score").path("total_score").asDouble());
      awaitPage(() -> cell(tiny, ".score-total_score").equals(total));
      assertEquals("–", cell(missing, ".score-total_score"), "an unscored model shows no total");
      assertEquals(Boolean.TRUE, js("return window.sn11LoadedOnce === true;"), "the page was reloaded");
      awaitPage(() -> browser.findElements(By.cssSelector("#queue tbody tr")).isEmpty());
      awaitPage(() -> browser.findElement(By.cssSelector(".slot")).getText().contains("idle"));

      // Sorting: by block ascending puts the block-100 model first, a second click reverses it.
      browser.findElement(By.cssSelector("#leaderboard th[data-key='block']")).click();
      assertEquals(List.of(missing.hash(), tiny.hash()), rowOrder());
      browser.findElement(By.cssSelector("#leaderboard th[data-key='block']")).click();
      assertEquals(List.of(tiny.hash(), missing.hash()), rowOrder());

      // The model's history: its scores and its status timeline, from submission to completion.
      read(() -> {
        row(tiny).click();
        return null;
      });
      awaitPage(() -> browser.findElement(By.id("model-section")).isDisplayed() && timeline().contains("EvaluationCompleted"));
      List<String> timeline = timeline();
      assertEquals("Submitted", timeline.get(0));
      assertTrue(timeline.indexOf("PrecheckStarted") < timeline.indexOf("RunningStarted"), timeline::toString);
      assertEquals("EvaluationCompleted", timeline.get(timeline.size() - 1), timeline::toString);
      assertEquals(total, browser.findElement(By.cssSelector("#model-scores tr[data-score='total_score'] td")).getText());

      // Weights: the random-weight model scores 0, so give it an imported judge score of 0.6 (the row
      // follows), register both miners and fold two blocks. uid 2 failed: uid 1 takes the whole step,
      // and the moving average is 0.1 after the first block, 0.9 * 0.1 + 0.1 = 0.19 after the second.
      api.importJudgeScore(tiny, 0.6).expect(200);
      awaitPage(() -> cell(tiny, ".score-total_score").equals("0.6000"));
      api.register(1, tiny).expect(200);
      api.register(2, missing).expect(200);
      Eventually.await(PAGE_DEADLINE, () -> api.get("/minerboard").expect(200).body().size() == 2);
      api.foldWeights(300).expect(200);
      api.foldWeights(400).expect(200);
      awaitPage(() -> browser.findElements(By.cssSelector("#weights-chart .weight-line")).size() == 2);
      assertEquals("uid 1: 0.1900", browser.findElement(By.cssSelector("#weights-legend [data-uid='1']")).getText());
      assertEquals("uid 2: 0.0000", browser.findElement(By.cssSelector("#weights-legend [data-uid='2']")).getText());
      assertFalse(browser.findElement(By.id("weights-empty")).isDisplayed());
      // Points are spaced by block: blocks 300, 400 and 1000 put the middle point 1/7 of the way along.
      api.foldWeights(1000).expect(200);
      awaitPage(() -> browser.findElement(By.cssSelector("#weights-legend [data-uid='1']")).getText().equals("uid 1: 0.2710"));
      List<Double> x = read(() -> pointsX(browser.findElement(By.cssSelector("#weights-chart .weight-line[data-uid='1']")).getAttribute("points")));
      assertEquals(3, x.size(), x::toString);
      assertEquals(1.0 / 7, (x.get(1) - x.get(0)) / (x.get(2) - x.get(0)), 0.01, x::toString);
      screenshot("3-history-and-weights");
    }

    // The same repository submitted later by another miner is marked a duplicate of the first; the first is not.
    Model copy = ApiNode.model("sn11-demo", "tiny-llama", ApiNode.hotkey("dashboard-copy"), 250);
    api.adminPost("/check_model", copy.json()).expect(200);
    awaitPage(() -> !row(copy).findElements(By.cssSelector(".duplicate")).isEmpty());
    assertTrue(read(() -> row(copy).findElement(By.cssSelector(".duplicate")).getAttribute("title")).contains(tiny.hash()));
    assertTrue(read(() -> row(tiny).findElements(By.cssSelector(".duplicate")).isEmpty()));

    // A validator's telemetry, as the subnet's validator sends it, shows in the validators table.
    String validator = ApiNode.hotkey("dashboard-validator");
    api.post("/telemetry_report", "{\"current_block\": 4600000, \"metagraph_version\": \"1\"}", "Git-Commit", "1a2b3c4d", "Bittensor-Version",
            "9.0.0", "UID", "5", "Hotkey", validator, "Coldkey", ApiNode.hotkey("dashboard-coldkey"))
        .expect(200);
    By validatorRow = By.cssSelector("#validators tr[data-hotkey='" + validator + "']");
    awaitPage(() -> !browser.findElements(validatorRow).isEmpty());
    List<String> cells = read(() -> browser.findElement(validatorRow).findElements(By.tagName("td")).stream().map(WebElement::getText).toList());
    assertEquals(List.of("5", "1a2b3c4d · bittensor 9.0.0", "4600000", "1"), List.of(cells.get(1), cells.get(2), cells.get(3), cells.get(5)), cells::toString);
    screenshot("4-duplicate-and-validators");
  }

  /** The x coordinates of an SVG polyline's points ("x,y x,y ..."). */
  private static List<Double> pointsX(String points) {
    return java.util.Arrays.stream(points.trim().split("\\s+")).map(point -> Double.parseDouble(point.split(",")[0])).toList();
  }

  // ---- reading the page -------------------------------------------------------------------------

  private static WebElement row(Model model) {
    return browser.findElement(By.id("model-" + model.hash()));
  }

  private static String statusOf(Model model) throws Exception {
    return read(() -> row(model).findElement(By.cssSelector(".status-cell .status")).getText());
  }

  private static String cell(Model model, String css) throws Exception {
    return read(() -> row(model).findElement(By.cssSelector(css)).getText());
  }

  private static List<String> rowOrder() throws Exception {
    return read(() -> browser.findElements(By.cssSelector("#leaderboard tbody tr")).stream().map(r -> r.getAttribute("data-hash")).toList());
  }

  private static List<String> rolesShown() throws Exception {
    return read(() -> browser.findElements(By.cssSelector("#nodes .role")).stream().map(WebElement::getText).toList());
  }

  private static List<String> timeline() throws Exception {
    return read(
        () ->
            browser.findElements(By.cssSelector("#timeline li")).stream()
                .map(li -> li.getAttribute("data-type"))
                .filter(type -> !type.equals("ProgressReported"))
                .toList());
  }

  /**
   * Reads the page again when a redraw replaced an element while it was being read: the page redraws its
   * tables every 2 s, and reading takes milliseconds, so a second try finds the new elements.
   */
  private static <T> T read(Callable<T> reading) throws Exception {
    for (int attempt = 1; ; attempt++) {
      try {
        return reading.call();
      } catch (StaleElementReferenceException redrawn) {
        if (attempt == 5) throw redrawn;
      }
    }
  }

  private static Object js(String script) {
    return ((JavascriptExecutor) browser).executeScript(script);
  }

  private static void awaitText(String css, String text) throws InterruptedException {
    awaitPage(() -> browser.findElement(By.cssSelector(css)).getText().equals(text));
  }

  /** The page polls every 2 s: anything the server already knows shows within a few rounds. */
  private static void awaitPage(Callable<Boolean> condition) throws InterruptedException {
    Eventually.await(PAGE_DEADLINE, condition);
  }

  private static void screenshot(String name) throws Exception {
    Path file = SCREENSHOTS.resolve(name + ".png");
    Files.write(file, ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
    System.out.println("dashboard screenshot: " + file.toAbsolutePath());
  }
}
