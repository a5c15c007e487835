package io.drover.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.encodeResponse;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.getFromResource;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEndOrSingleSlash;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.respondWithHeaders;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Set;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The API's description, without a key: {@code GET /api/v1/openapi.json} (OpenAPI 3.1, the checked-in document
 * {@code openapi.json} next to this class, which {@code OpenApiTest} holds to the routes) and Swagger UI at
 * {@code /api/docs}, served from the {@code org.webjars:swagger-ui} jar on the classpath — nothing from another origin
 * (Content-Security-Policy {@code default-src 'self'}; the UI's online validator is off).
 */
public final class DocsRoutes {

    static final String DOCUMENT = "io/drover/http/openapi.json";
    private static final String OWN = "io/drover/http/docs/";
    /** The Swagger UI files the page loads; nothing else of the jar is served. */
    private static final Set<String> UI_FILES = Set.of("swagger-ui.css", "index.css", "swagger-ui-bundle.js",
            "swagger-ui-standalone-preset.js", "favicon-32x32.png", "favicon-16x16.png");

    /**
     * Swagger UI's styles set inline style attributes and use data: images; scripts only from this origin, and no
     * request leaves it.
     */
    static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            + "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    private static final List<HttpHeader> HEADERS = pageHeaders(CSP);

    /** The headers of the node's own pages (docs, console): their policy, no sniffing, revalidated, no referrer. */
    static List<HttpHeader> pageHeaders(String csp) {
        return List.of(RawHeader.create("Content-Security-Policy", csp), RawHeader.create("X-Content-Type-Options", "nosniff"),
                RawHeader.create("Cache-Control", "no-cache"), RawHeader.create("Referrer-Policy", "no-referrer"));
    }

    private final byte[] document = resource(DOCUMENT);
    private final String webjar = "META-INF/resources/webjars/swagger-ui/" + swaggerUiVersion() + "/";

    /** {@code /api/v1/openapi.json} and {@code /api/docs}; before authentication, like health. */
    public Route route() {
        return respondWithHeaders(HEADERS, () -> encodeResponse(() -> concat(
                path(segment("api").slash("v1").slash("openapi.json"), () -> get(() -> complete(
                        HttpResponse.create().withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, document))))),
                pathPrefix(segment("api").slash("docs"), () -> concat(
                        pathEndOrSingleSlash(() -> get(() -> getFromResource(OWN + "index.html"))),
                        path("drover-swagger.js", () -> get(() -> getFromResource(OWN + "drover-swagger.js"))),
                        path(segment(), file -> UI_FILES.contains(file)
                                ? get(() -> getFromResource(webjar + file))
                                : complete(Problems.response(org.apache.pekko.http.javadsl.model.StatusCodes.NOT_FOUND,
                                        "docs-file-not-found", "no such file of the API docs", null))))))));
    }

    private static byte[] resource(String name) {
        try (InputStream in = DocsRoutes.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The version of the swagger-ui WebJar on the classpath (its files live under that version's folder). */
    static String swaggerUiVersion() {
        return ConsoleRoutes.webjarVersion("org.webjars", "swagger-ui");
    }
}
