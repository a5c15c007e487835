package io.drover.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.encodeResponse;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.getFromResource;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.pathSingleSlash;
import static org.apache.pekko.http.javadsl.server.Directives.respondWithHeaders;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Pattern;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The web console, without a key (the page asks for one and sends it with every API call): {@code /} is its page,
 * {@code /console/{file}} its own scripts and styles (the files next to this class under {@code console/}),
 * {@code /console/lib/{file}} the libraries it uses, from their WebJars on the classpath (uPlot, Leaflet,
 * Leaflet.markercluster), and {@code /console/vendor/{file}} the map's country shapes and their decoder, which the build
 * copies from pinned npm tarballs. Nothing is loaded from another origin: {@code default-src 'self'}, no inline
 * script or style (the libraries set styles through the DOM, which the policy allows); {@code connect-src 'self'}
 * covers the WebSocket to the same host and port.
 */
public final class ConsoleRoutes {

    private static final String OWN = "io/drover/http/console/";

    static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    private static final List<HttpHeader> HEADERS = DocsRoutes.pageHeaders(CSP);

    /** The console's own files: names only, no folders (so no path leaves the console's folder). */
    private static final Pattern OWN_FILE = Pattern.compile("[a-z][a-z0-9-]*\\.(js|css|svg)");

    /** The library files the page loads, by the name it asks for; nothing else of the jars is served. */
    private final Map<String, String> libs;

    public ConsoleRoutes() {
        String uplot = "META-INF/resources/webjars/uplot/" + webjarVersion("org.webjars.npm", "uplot") + "/dist/";
        String leaflet = "META-INF/resources/webjars/leaflet/" + webjarVersion("org.webjars.npm", "leaflet") + "/dist/";
        String cluster = "META-INF/resources/webjars/leaflet-markercluster/"
                + webjarVersion("org.webjars", "leaflet-markercluster") + "/";
        libs = Map.of(
                "uPlot.iife.min.js", uplot + "uPlot.iife.min.js",
                "uPlot.min.css", uplot + "uPlot.min.css",
                "leaflet.js", leaflet + "leaflet.js",
                "leaflet.css", leaflet + "leaflet.css",
                "leaflet.markercluster.js", cluster + "leaflet.markercluster.js",
                "MarkerCluster.css", cluster + "MarkerCluster.css",
                "MarkerCluster.Default.css", cluster + "MarkerCluster.Default.css");
    }

    /** Before authentication, like the docs. */
    public Route route() {
        return respondWithHeaders(HEADERS, () -> encodeResponse(() -> concat(
                pathSingleSlash(() -> get(() -> getFromResource(OWN + "index.html"))),
                pathPrefix("console", () -> concat(
                        path(segment("lib").slash(segment()), file -> libs.containsKey(file)
                                ? get(() -> getFromResource(libs.get(file)))
                                : notFound()),
                        path(segment("vendor").slash(segment()), file -> file.equals("countries-110m.json")
                                || file.equals("topojson-client.min.js")
                                ? get(() -> getFromResource(OWN + "vendor/" + file))
                                : notFound()),
                        path(segment(), file -> OWN_FILE.matcher(file).matches()
                                ? get(() -> concat(getFromResource(OWN + file), notFound()))
                                : notFound()))))));
    }

    private static Route notFound() {
        return complete(Problems.response(StatusCodes.NOT_FOUND, "console-file-not-found", "no such file of the console",
                null));
    }

    /** The version of a WebJar on the classpath (its files live under that version's folder). */
    static String webjarVersion(String group, String artifact) {
        Properties p = new Properties();
        String name = "META-INF/maven/" + group + "/" + artifact + "/pom.properties";
        try (InputStream in = ConsoleRoutes.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("the " + group + ":" + artifact + " jar is not on the classpath");
            }
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p.getProperty("version");
    }
}
