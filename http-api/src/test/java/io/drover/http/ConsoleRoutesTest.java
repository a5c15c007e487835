package io.drover.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.drover.http.testing.ApiTestServer;
import io.drover.http.testing.ApiTestServer.Reply;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The console's files as the node serves them, without a browser: the page and everything it loads (its tags and
 * its modules' imports) come from this node with the console's Content-Security-Policy, the JavaScript stays within
 * its budget (300 KB gzipped), and nothing but the console's own and allowlisted files is served.
 */
class ConsoleRoutesTest {

    private static final Pattern TAG_URL = Pattern.compile("(?:src|href)=\"(/[^\"]+)\"");
    private static final Pattern IMPORT = Pattern.compile("from '\\./([a-z-]+\\.js)'");
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static ApiTestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = new ApiTestServer(Map.of());
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    private static HttpResponse<byte[]> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(server.base() + path)).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    void thePageAndEverythingItLoadsComeFromTheNodeWithinTheScriptBudget() throws Exception {
        HttpResponse<byte[]> page = get("/");
        assertEquals(200, page.statusCode());
        assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
        String csp = page.headers().firstValue("Content-Security-Policy").orElse("");
        assertEquals(ConsoleRoutes.CSP, csp);
        assertTrue(csp.startsWith("default-src 'self'") && !csp.contains("unsafe"), csp);
        String html = new String(page.body());
        assertTrue(!html.contains("<script>") && !html.contains("style="), "no inline script or style");

        Set<String> urls = new LinkedHashSet<>();
        Matcher m = TAG_URL.matcher(html);
        while (m.find()) {
            urls.add(m.group(1));
        }
        Deque<String> modules = new ArrayDeque<>();
        modules.add("/console/app.js");
        long jsGzip = 0;
        Set<String> seen = new LinkedHashSet<>();
        while (!modules.isEmpty()) { // the modules app.js imports, and theirs
            String u = modules.pop();
            if (!seen.add(u)) {
                continue;
            }
            urls.add(u);
            Matcher i = IMPORT.matcher(new String(get(u).body()));
            while (i.find()) {
                modules.add("/console/" + i.group(1));
            }
        }
        for (String u : urls) {
            HttpResponse<byte[]> r = get(u);
            assertEquals(200, r.statusCode(), u);
            assertEquals(csp, r.headers().firstValue("Content-Security-Policy").orElse(""), u);
            if (u.endsWith(".js")) {
                assertTrue(r.headers().firstValue("Content-Type").orElse("").contains("javascript"), u);
                jsGzip += gzipped(r.body());
            }
        }
        assertTrue(urls.containsAll(Set.of("/console/lib/uPlot.iife.min.js", "/console/lib/leaflet.js",
                "/console/lib/leaflet.markercluster.js", "/console/vendor/topojson-client.min.js", "/console/fleet.js",
                "/console/device.js", "/console/map.js", "/console/alarms.js", "/console/rules.js")), urls.toString());
        assertTrue(jsGzip <= 300 * 1024, "JavaScript gzipped: " + jsGzip + " bytes");
        System.out.println("console JavaScript: " + jsGzip + " bytes gzipped over " + urls.stream().filter(u -> u.endsWith(".js")).count() + " files");
        HttpResponse<byte[]> atlas = get("/console/vendor/countries-110m.json");
        assertEquals(200, atlas.statusCode());
        assertTrue(new String(atlas.body()).contains("\"countries\""), "the Natural Earth shapes");
    }

    @Test
    void onlyTheConsolesOwnAndAllowlistedFilesAreServed() throws Exception {
        for (String path : new String[] {"/console/nope.js", "/console/lib/leaflet-src.js", "/console/lib/package.json",
                "/console/vendor/countries-10m.json", "/console/..%2Fopenapi.json", "/console/index.html",
                "/console/App.js", "/console/vendor/..%2F..%2Fopenapi.json"}) {
            Reply r = server.call("GET", path, null, null);
            ApiTestServer.problem(r, 404, "console-file-not-found");
        }
        assertEquals(404, server.call("GET", "/favicon.ico", null, null).status());
    }

    private static long gzipped(byte[] b) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(b);
        }
        return out.size();
    }
}
