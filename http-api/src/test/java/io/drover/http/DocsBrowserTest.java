package io.drover.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.drover.http.testing.ApiTestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * Swagger UI at /api/docs in a real browser: Debian's headless Chromium driven by its ChromeDriver through Selenium
 * (nothing is downloaded). Every operation of the document renders, the page logs no error and asks nothing of
 * another origin. Skipped where Chromium is not installed, unless {@code DROVER_BROWSER_TESTS=required} (.ci/run
 * sets it and installs chromium and chromium-driver). Screenshot: {@code target/screenshots/api-docs.png}.
 */
class DocsBrowserTest {

    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    private static ApiTestServer server;
    private static ChromeDriver browser;

    /** A headless Chromium of this machine, or the test is skipped (failed when browser tests are required). */
    static ChromeDriver chromium(Path profile) {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            String why = "no " + CHROMIUM + " or " + CHROMEDRIVER + " (apt-get install chromium chromium-driver)";
            if ("required".equals(System.getenv("DROVER_BROWSER_TESTS"))) {
                throw new IllegalStateException("browser tests are required here, but " + why);
            }
            Assumptions.abort(why);
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        // as the machine notes say: without the background-networking flags Chromium calls Google's hosts
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,2000", "--user-data-dir=" + profile);
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        logs.enable(LogType.PERFORMANCE, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        return new ChromeDriver(service, options);
    }

    @BeforeAll
    static void start() throws Exception {
        Path profile = Files.createTempDirectory("drover-chromium");
        browser = chromium(profile);
        server = new ApiTestServer(Map.of());
    }

    @AfterAll
    static void stop() throws Exception {
        if (browser != null) {
            browser.quit();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void swaggerUiRendersEveryOperationWithoutErrorsAndFromThisOriginOnly() throws Exception {
        int operations = new io.drover.http.testing.OpenApiContract().operations().size();
        browser.get(server.base() + "/api/docs");
        long deadline = System.nanoTime() + 30_000_000_000L;
        int shown = 0;
        while (System.nanoTime() < deadline && (shown = browser.findElements(By.cssSelector(".opblock")).size()) < operations) {
            Thread.sleep(100);
        }
        Path shots = Path.of("target", "screenshots");
        Files.createDirectories(shots);
        Files.write(shots.resolve("api-docs.png"), browser.getScreenshotAs(OutputType.BYTES));
        assertEquals(operations, shown, "operations Swagger UI shows");
        assertTrue(browser.findElement(By.cssSelector(".info .title")).getText().startsWith("Drover REST API"));

        List<String> errors = new ArrayList<>();
        for (LogEntry e : browser.manage().logs().get(LogType.BROWSER).getAll()) {
            if (e.getLevel().intValue() >= Level.WARNING.intValue()) {
                errors.add(e.getLevel() + " " + e.getMessage());
            }
        }
        assertEquals(List.of(), errors, "the page's console (a CSP refusal would be here too)");

        List<String> requests = new ArrayList<>();
        List<String> elsewhere = new ArrayList<>();
        for (LogEntry e : browser.manage().logs().get(LogType.PERFORMANCE).getAll()) {
            JsonNode m = ApiJson.MAPPER.readTree(e.getMessage()).path("message");
            if (m.path("method").asText().equals("Network.requestWillBeSent")) {
                String url = m.at("/params/request/url").asText();
                requests.add(url);
                // network requests only: the browser's own chrome:// pages (its new tab) are not the page's
                if (url.matches("(?i)(https?|wss?|ftp)://.*") && !url.startsWith(server.base() + "/")) {
                    elsewhere.add(url);
                }
            }
        }
        assertTrue(requests.contains(server.base() + "/api/v1/openapi.json"), "the page fetched " + requests);
        assertEquals(List.of(), elsewhere, "requests that left the origin");
    }
}
