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
      row(tiny).click();
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
      screenshot("3-history-and-weights");
    }
  }

  // ---- reading the page -------------------------------------------------------------------------

  private static WebElement row(Model model) {
    return browser.findElement(By.id("model-" + model.hash()));
  }

  private static String statusOf(Model model) {
    return row(model).findElement(By.cssSelector(".status-cell")).getText();
  }

  private static String cell(Model model, String css) {
    return row(model).findElement(By.cssSelector(css)).getText();
  }

  private static List<String> rowOrder() {
    return browser.findElements(By.cssSelector("#leaderboard tbody tr")).stream().map(r -> r.getAttribute("data-hash")).toList();
  }

  private static List<String> rolesShown() {
    return browser.findElements(By.cssSelector("#nodes .role")).stream().map(WebElement::getText).toList();
  }

  private static List<String> timeline() {
    return browser.findElements(By.cssSelector("#timeline li")).stream()
        .map(li -> li.getAttribute("data-type"))
        .filter(type -> !type.equals("ProgressReported"))
        .toList();
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
