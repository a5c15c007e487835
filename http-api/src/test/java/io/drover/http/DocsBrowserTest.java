package io.drover.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.drover.http.testing.ApiTestServer;
import io.drover.http.testing.Browser;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;

/**
 * Swagger UI at /api/docs in a real browser ({@link Browser}: Debian's headless Chromium, nothing downloaded). Every
 * operation of the document renders, the page logs no error and asks nothing of another origin. Screenshot:
 * {@code target/screenshots/api-docs.png}.
 */
class DocsBrowserTest {

    private static ApiTestServer server;
    private static Browser browser;

    @BeforeAll
    static void start() throws Exception {
        browser = Browser.start();
        server = new ApiTestServer(Map.of());
    }

    @AfterAll
    static void stop() throws Exception {
        if (browser != null) {
            browser.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void swaggerUiRendersEveryOperationWithoutErrorsAndFromThisOriginOnly() throws Exception {
        int operations = new io.drover.http.testing.OpenApiContract().operations().size();
        browser.driver.get(server.base() + "/api/docs");
        Object shown = browser.await("every operation shown", Duration.ofSeconds(30),
                "document.querySelectorAll('.opblock').length", n -> ((Number) n).intValue() >= operations);
        browser.screenshot("api-docs");
        assertEquals(operations, ((Number) shown).intValue(), "operations Swagger UI shows");
        assertTrue(browser.driver.findElement(By.cssSelector(".info .title")).getText().startsWith("Drover REST API"));
        assertEquals(List.of(), browser.consoleProblems(), "the page's console (a CSP refusal would be here too)");
        assertTrue(browser.requests().contains(server.base() + "/api/v1/openapi.json"), "the page fetched " + browser.requests());
        assertEquals(List.of(), browser.requestsElsewhere(server.base()), "requests that left the origin");
    }
}
