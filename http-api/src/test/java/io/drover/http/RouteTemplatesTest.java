package io.drover.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The metrics label of a path: its template, literal segments first, anything else "other". */
class RouteTemplatesTest {

    @Test
    void pathsMapToTheirTemplate() {
        assertEquals("/api/v1/devices/{id}", RouteTemplates.of("/api/v1/devices/r1"));
        assertEquals("/api/v1/devices/{id}/commands/{id}", RouteTemplates.of("/api/v1/devices/r1/commands/c-9"));
        assertEquals("/api/v1/rules/test", RouteTemplates.of("/api/v1/rules/test"));
        assertEquals("/api/v1/rules/{id}", RouteTemplates.of("/api/v1/rules/r-2"));
        assertEquals("/metrics", RouteTemplates.of("/metrics"));
        assertEquals("other", RouteTemplates.of("/api/v1/devices/r1/nothing"));
        assertEquals("other", RouteTemplates.of("/api/v1/devices//shadow"));
        assertEquals("other", RouteTemplates.of("/api/v1/d8f1a2"));
        assertEquals("/", RouteTemplates.of("/"), "the console's page");
        assertEquals("/console/{id}", RouteTemplates.of("/console/app.js"));
        assertEquals("/console/lib/{id}", RouteTemplates.of("/console/lib/leaflet.js"));
        assertEquals("other", RouteTemplates.of("/favicon.ico"));
    }

    /** Every route docs/http-api.md shows has a template (a documented route counted as "other" fails here). */
    @Test
    void everyDocumentedRouteHasATemplate() throws Exception {
        String doc = Files.readString(Path.of("..", "docs", "http-api.md"));
        Matcher m = Pattern.compile("`(GET|POST|PUT|PATCH|DELETE) (/[^`?\\s]*)").matcher(doc);
        int n = 0;
        while (m.find()) {
            String p = m.group(2).replaceAll("\\{[^}]*}", "x");
            String full = p.startsWith("/health") || p.equals("/metrics") || p.startsWith("/api/") ? p : "/api/v1" + p;
            assertNotEquals("other", RouteTemplates.of(full), "documented route without a template: " + m.group());
            n++;
        }
        assertNotEquals(0, n, "no routes found in docs/http-api.md");
    }
}
