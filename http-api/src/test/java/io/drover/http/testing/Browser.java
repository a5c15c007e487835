package io.drover.http.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.logging.Level;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * Debian's headless Chromium driven by its ChromeDriver through Selenium (nothing is downloaded), for the browser
 * tests: the page's console and every network request it made (from the performance log, read as it goes so no
 * entry is lost), and screenshots under {@code target/screenshots}. Skipped where Chromium is not installed, unless
 * {@code DROVER_BROWSER_TESTS=required} (.ci/run sets it and installs chromium and chromium-driver).
 */
public final class Browser implements AutoCloseable {

    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final ObjectMapper JSON = new ObjectMapper();

    public final ChromeDriver driver;
    private final List<String> console = new ArrayList<>();
    private final List<String> requests = new ArrayList<>();

    private Browser(ChromeDriver driver) {
        this.driver = driver;
    }

    /** A headless Chromium of this machine, or the test is skipped (failed when browser tests are required). */
    public static Browser start() throws Exception {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            String why = "no " + CHROMIUM + " or " + CHROMEDRIVER + " (apt-get install chromium chromium-driver)";
            if ("required".equals(System.getenv("DROVER_BROWSER_TESTS"))) {
                throw new IllegalStateException("browser tests are required here, but " + why);
            }
            Assumptions.abort(why);
        }
        Path profile = Files.createTempDirectory("drover-chromium");
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
        ChromeDriver driver = new ChromeDriver(service, options);
        driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
        return new Browser(driver);
    }

    /** Console entries at warning and above so far ("LEVEL message"); a CSP refusal is one. */
    public List<String> consoleProblems() {
        for (LogEntry e : driver.manage().logs().get(LogType.BROWSER).getAll()) {
            if (e.getLevel().intValue() >= Level.WARNING.intValue()) {
                console.add(e.getLevel() + " " + e.getMessage());
            }
        }
        return List.copyOf(console);
    }

    /** Every URL the page asked for so far: HTTP requests and WebSockets. */
    public List<String> requests() throws Exception {
        for (LogEntry e : driver.manage().logs().get(LogType.PERFORMANCE).getAll()) {
            JsonNode m = JSON.readTree(e.getMessage()).path("message");
            String method = m.path("method").asText();
            if (method.equals("Network.requestWillBeSent")) {
                requests.add(m.at("/params/request/url").asText());
            } else if (method.equals("Network.webSocketCreated")) {
                requests.add(m.at("/params/url").asText());
            }
        }
        return List.copyOf(requests);
    }

    /** The network requests (not the browser's own chrome:// or data: pages) that went anywhere but {@code origin}. */
    public List<String> requestsElsewhere(String origin) throws Exception {
        String ws = origin.replaceFirst("^http", "ws");
        return requests().stream()
                .filter(u -> u.matches("(?i)(https?|wss?|ftp)://.*"))
                .filter(u -> !u.startsWith(origin + "/") && !u.startsWith(ws + "/"))
                .toList();
    }

    public Path screenshot(String name) throws Exception {
        Path shots = Path.of("target", "screenshots");
        Files.createDirectories(shots);
        Path file = shots.resolve(name + ".png");
        Files.write(file, driver.getScreenshotAs(OutputType.BYTES));
        return file;
    }

    /** Waits until {@code script} (a JavaScript expression) is truthy; its last value, or a failure after the time. */
    public Object await(String what, Duration within, String script) throws Exception {
        return await(what, within, script, v -> v != null && !Boolean.FALSE.equals(v) && !"".equals(v));
    }

    public Object await(String what, Duration within, String script, Predicate<Object> done) throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        Object last = null;
        while (System.nanoTime() < deadline) {
            last = driver.executeScript("return (" + script + ");");
            if (done.test(last)) {
                return last;
            }
            Thread.sleep(25);
        }
        screenshot("timeout-" + what.replaceAll("[^a-zA-Z0-9]+", "-"));
        throw new AssertionError("timed out after " + within + " waiting for " + what + "; last: " + last);
    }

    @Override
    public void close() {
        driver.quit();
    }
}
