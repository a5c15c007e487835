package io.drover.http.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.dialect.Dialects;
import io.drover.http.ApiJson;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The checked-in OpenAPI document ({@code io/drover/http/openapi.json}) as a contract for answers: {@link #check}
 * says what an answer does that the document does not allow (an undocumented status or content type, a body its
 * schema refuses). {@link ApiTestServer} checks every answer of every route test with it.
 */
public final class OpenApiContract {

    public static final String RESOURCE = "io/drover/http/openapi.json";
    private static final String LOCATION = "classpath:" + RESOURCE;

    public final JsonNode document;
    private final SchemaRegistry registry = SchemaRegistry.withDefaultDialect(Dialects.getOpenApi31());
    private final Map<String, Schema> schemas = new ConcurrentHashMap<>();
    private final List<Map.Entry<Pattern, String>> paths = new ArrayList<>();

    public OpenApiContract() {
        try (InputStream in = OpenApiContract.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            document = ApiJson.MAPPER.readTree(in);
        } catch (Exception e) {
            throw new IllegalStateException("cannot read " + RESOURCE, e);
        }
        for (Iterator<String> it = document.get("paths").fieldNames(); it.hasNext(); ) {
            String p = it.next();
            paths.add(Map.entry(Pattern.compile(
                    Pattern.quote(p).replaceAll("\\{[^}]+}", "\\\\E[^/]+\\\\Q")), p));
        }
    }

    /** The HTTP methods an OpenAPI path item may document. */
    public static final List<String> METHODS = List.of("get", "post", "put", "patch", "delete");

    /** Every documented operation as "method template", e.g. {@code "get /api/v1/devices"}. */
    public List<String> operations() {
        List<String> out = new ArrayList<>();
        document.get("paths").fields().forEachRemaining(p -> METHODS.stream()
                .filter(m -> p.getValue().has(m)).forEach(m -> out.add(m + " " + p.getKey())));
        return out;
    }

    /** The documented path template {@code path} (no query) falls under, or null. */
    public String template(String path) {
        String best = null;
        for (Map.Entry<Pattern, String> e : paths) {
            if (e.getKey().matcher(path).matches()
                    && (best == null || literals(e.getValue()) > literals(best))) {
                best = e.getValue();
            }
        }
        return best;
    }

    private static int literals(String template) {
        return template.replaceAll("\\{[^}]+}", "").length();
    }

    /** RFC 6901: {@code /} and {@code ~} escaped in a JSON pointer segment. */
    public static String pointer(String... segments) {
        StringBuilder b = new StringBuilder();
        for (String s : segments) {
            b.append('/').append(s.replace("~", "~0").replace("/", "~1"));
        }
        return b.toString();
    }

    /** A {@code $ref} followed to what it names (one document, local references only). */
    public JsonNode resolve(JsonNode node) {
        while (node != null && node.has("$ref")) {
            String ref = node.get("$ref").asText();
            if (!ref.startsWith("#")) {
                throw new IllegalStateException("external reference " + ref);
            }
            node = document.at(ref.substring(1));
            if (node.isMissingNode()) {
                throw new IllegalStateException("unresolvable reference " + ref);
            }
        }
        return node;
    }

    /**
     * What is wrong with this answer by the document, empty when nothing is. Paths the document does not have (e.g. a
     * request to a route that does not exist) and methods it does not list for them are not checked here: the route
     * coverage test covers those.
     */
    public List<String> check(String method, String path, int status, String contentType, String body) {
        List<String> out = new ArrayList<>();
        String template = template(path);
        if (template == null) {
            return out;
        }
        JsonNode operation = document.get("paths").get(template).get(method.toLowerCase());
        if (operation == null) {
            return out;
        }
        String what = method + " " + template + " → " + status;
        JsonNode declared = operation.get("responses").get(Integer.toString(status));
        JsonNode response = resolve(declared);
        if (response == null) {
            out.add(what + ": status not documented");
            return out;
        }
        JsonNode content = response.get("content");
        if (content == null || body == null || body.isEmpty()) {
            if (content != null && status != 101) {
                out.add(what + ": documented with a body, answered without one");
            }
            return out;
        }
        String type = contentType == null ? "" : contentType.split(";")[0].trim();
        JsonNode media = content.get(type);
        if (media == null) {
            out.add(what + ": content type " + type + " not documented (" + content.fieldNames().next() + "…)");
            return out;
        }
        if (!type.endsWith("json")) {
            return out;
        }
        String schemaPointer = declared.has("$ref") ? declared.get("$ref").asText().substring(1)
                : pointer("paths", template, method.toLowerCase(), "responses", Integer.toString(status));
        Schema schema = schemas.computeIfAbsent(schemaPointer + "|" + type, k -> registry.getSchema(
                SchemaLocation.of(LOCATION + "#" + schemaPointer + pointer("content", type, "schema"))));
        try {
            List<Error> errors = schema.validate(ApiJson.MAPPER.readTree(body));
            for (Error e : errors) {
                out.add(what + ": " + e.getInstanceLocation() + " " + e.getMessage() + " in " + abbreviate(body));
            }
        } catch (Exception e) {
            out.add(what + ": body is not JSON: " + abbreviate(body));
        }
        return out;
    }

    private static String abbreviate(String s) {
        return s.length() <= 300 ? s : s.substring(0, 300) + "…";
    }
}
