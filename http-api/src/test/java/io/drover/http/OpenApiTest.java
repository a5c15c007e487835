package io.drover.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.drover.http.testing.ApiTestServer;
import io.drover.http.testing.ApiTestServer.Reply;
import io.drover.http.testing.OpenApiContract;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The OpenAPI document against the service: every route is documented, every documented operation is served and no
 * undocumented method is, every reference resolves; the document and Swagger UI are served without a key, from this
 * origin only. (Every answer of the route tests is checked against the document's schemas by {@link ApiTestServer}.)
 */
class OpenApiTest {

    private static final List<String> METHODS = List.of("GET", "POST", "PUT", "PATCH", "DELETE");
    /** Templates of the docs UI's own files, not API routes. */
    private static final Set<String> NOT_API = Set.of("/api/docs", "/api/docs/{id}", "/", "/console/{id}", "/console/lib/{id}",
            "/console/vendor/{id}");

    private static ApiTestServer server;
    private static String admin;
    private final OpenApiContract contract = new OpenApiContract();

    @BeforeAll
    static void start() throws Exception {
        server = new ApiTestServer(Map.of());
        admin = server.newTenant("oa").adminKey();
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    private static String asTemplate(String documented) {
        return documented.replaceAll("\\{[^}]+}", "{id}");
    }

    @Test
    void theDocumentIsOpenApi31WithUniqueOperationsAndResolvableReferences() {
        JsonNode doc = contract.document;
        assertEquals("3.1.0", doc.get("openapi").asText());
        Set<String> ids = new HashSet<>();
        int operations = 0;
        for (Iterator<Map.Entry<String, JsonNode>> p = doc.get("paths").fields(); p.hasNext(); ) {
            Map.Entry<String, JsonNode> path = p.next();
            for (String m : METHODS) {
                JsonNode op = path.getValue().get(m.toLowerCase());
                if (op == null) {
                    continue;
                }
                operations++;
                String where = m + " " + path.getKey();
                assertTrue(ids.add(op.path("operationId").asText(where)), "operationId twice: " + where);
                assertTrue(op.get("responses").fieldNames().hasNext(), "no responses: " + where);
                boolean success = false;
                for (Iterator<String> s = op.get("responses").fieldNames(); s.hasNext(); ) {
                    String status = s.next();
                    success |= status.startsWith("2") || status.equals("101");
                    JsonNode r = contract.resolve(op.get("responses").get(status));
                    // readiness answers 503 with its checks, for load balancers; every other error is a problem
                    if ((status.startsWith("4") || status.startsWith("5")) && !path.getKey().equals("/health/ready")) {
                        assertFalse(r.at("/content/application~1problem+json").isMissingNode(),
                                where + " " + status + " is not a problem+json answer");
                    }
                }
                assertTrue(success, "no success answer: " + where);
                for (String param : params(path.getKey())) {
                    assertTrue(hasPathParameter(path.getValue(), op, param), where + ": {" + param + "} undeclared");
                }
            }
        }
        assertTrue(operations >= 50, "only " + operations + " operations documented");
        List<String> refs = new ArrayList<>();
        collectRefs(doc, refs);
        assertFalse(refs.isEmpty());
        for (String ref : refs) {
            assertFalse(doc.at(ref.substring(1)).isMissingNode(), "unresolvable $ref " + ref);
        }
    }

    private static List<String> params(String path) {
        List<String> out = new ArrayList<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\{([^}]+)}").matcher(path);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    private static boolean hasPathParameter(JsonNode pathItem, JsonNode op, String name) {
        for (JsonNode list : List.of(pathItem.path("parameters"), op.path("parameters"))) {
            for (JsonNode p : list) {
                if (p.path("in").asText().equals("path") && p.path("name").asText().equals(name)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static void collectRefs(JsonNode n, List<String> out) {
        if (n.isObject()) {
            n.fields().forEachRemaining(e -> {
                if (e.getKey().equals("$ref")) {
                    out.add(e.getValue().asText());
                } else {
                    collectRefs(e.getValue(), out);
                }
            });
        } else if (n.isArray()) {
            n.forEach(x -> collectRefs(x, out));
        }
    }

    /** The metrics templates are the list of every route the service answers (RouteTemplatesTest, ApiRoutesTest). */
    @Test
    void everyRouteIsDocumentedAndEveryDocumentedPathIsARoute() {
        Set<String> documented = new TreeSet<>();
        contract.document.get("paths").fieldNames().forEachRemaining(p -> documented.add(asTemplate(p)));
        Set<String> routes = new TreeSet<>(RouteTemplates.ALL);
        routes.removeAll(NOT_API);
        assertEquals(routes, documented);
    }

    /**
     * Each documented path with every method: a documented one reaches its route (whatever it answers with ids that
     * do not exist, never 405 or the not-found of no route), an undocumented one is 405 or not-found.
     */
    @Test
    void everyDocumentedOperationIsServedAndNoOtherMethodIs() throws Exception {
        List<String> wrong = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> p = contract.document.get("paths").fields(); p.hasNext(); ) {
            Map.Entry<String, JsonNode> path = p.next();
            String concrete = path.getKey().replaceAll("\\{[^}]+}", "x1");
            for (String m : METHODS) {
                boolean documented = path.getValue().has(m.toLowerCase());
                if (!documented && servedByAnother(path.getKey(), concrete, m)) {
                    continue; // e.g. GET /api/v1/rules/test is GET /api/v1/rules/{ruleId} with the id "test"
                }
                Reply r = server.call(m, concrete, admin, m.equals("GET") || m.equals("DELETE") ? null : "{}");
                boolean noRoute = r.status() == 405 || (r.status() == 404 && "not-found".equals(r.code()));
                if (documented == noRoute) {
                    wrong.add(m + " " + path.getKey() + (documented ? " is" : " is not")
                            + " documented but answered " + r.status() + " " + r.code());
                }
            }
        }
        assertEquals(List.of(), wrong);
    }

    private boolean servedByAnother(String template, String concrete, String method) {
        for (Iterator<Map.Entry<String, JsonNode>> p = contract.document.get("paths").fields(); p.hasNext(); ) {
            Map.Entry<String, JsonNode> other = p.next();
            if (!other.getKey().equals(template) && other.getValue().has(method.toLowerCase())
                    && concrete.matches(other.getKey().replaceAll("\\{[^}]+}", "[^/]+"))) {
                return true;
            }
        }
        return false;
    }

    /** The contract the route tests are checked with finds what it should (or their passing would mean nothing). */
    @Test
    void theContractRefusesWhatTheDocumentDoesNotAllow() {
        String device = "{\"id\":\"d1\",\"tenantId\":\"t\",\"state\":\"active\",\"shadowVersion\":0,"
                + "\"connectivity\":{\"online\":false}}";
        assertEquals(List.of(), contract.check("GET", "/api/v1/devices/d1", 200, "application/json", device));
        assertEquals(1, contract.check("GET", "/api/v1/devices/d1", 200, "application/json",
                device.replace("\"active\"", "\"sleeping\"")).size(), "a state outside the enum");
        assertFalse(contract.check("GET", "/api/v1/devices/d1", 200, "application/json", "{\"id\":5}").isEmpty(),
                "a wrong type and missing members");
        assertEquals(1, contract.check("GET", "/api/v1/devices/d1", 418, "application/json", device).size(),
                "an undocumented status");
        assertEquals(1, contract.check("GET", "/api/v1/devices/d1", 200, "text/html", "<p>").size(),
                "an undocumented content type");
        assertFalse(contract.check("GET", "/api/v1/devices/d1", 404, "application/problem+json",
                "{\"code\":\"device-not-found\"}").isEmpty(), "a problem without its members");
        assertEquals("/api/v1/rules/{ruleId}", contract.template("/api/v1/rules/r1"));
        assertEquals("/api/v1/rules/test", contract.template("/api/v1/rules/test"));
    }

    @Test
    void theDocumentAndSwaggerUiAreServedWithoutAKeyFromThisOriginOnly() throws Exception {
        Reply doc = server.call("GET", "/api/v1/openapi.json", null, null);
        assertEquals(200, doc.status());
        assertEquals(contract.document, doc.body());
        Reply ui = server.call("GET", "/api/docs", null, null);
        assertEquals(200, ui.status(), ui.raw().body());
        assertTrue(ui.header("Content-Type").startsWith("text/html"), ui.header("Content-Type"));
        assertTrue(ui.header("Content-Security-Policy").startsWith("default-src 'self'"));
        java.util.regex.Matcher src = java.util.regex.Pattern.compile("(?:src|href)=\"([^\"]+)\"").matcher(ui.raw().body());
        int loaded = 0;
        while (src.find()) {
            String url = src.group(1);
            assertTrue(url.startsWith("/api/docs/"), "the page loads " + url);
            Reply file = server.call("GET", url, null, null);
            assertEquals(200, file.status(), url);
            loaded++;
        }
        assertTrue(loaded >= 5, "the page loads " + loaded + " files");
        Reply js = server.call("GET", "/api/docs/drover-swagger.js", null, null);
        assertTrue(js.raw().body().contains("\"/api/v1/openapi.json\""));
        assertTrue(js.raw().body().contains("validatorUrl: null"), "the online validator would leave the origin");
        ApiTestServer.problem(server.call("GET", "/api/docs/oauth2-redirect.html", null, null), 404, "docs-file-not-found");
        ApiTestServer.problem(server.call("GET", "/api/docs/..%2F..%2Fapplication.conf", null, null), 404, "docs-file-not-found");
    }
}
