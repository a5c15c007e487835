package io.drover.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.optionalHeaderValueByName;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;

/** {@code /health/alive}, {@code /health/ready} and {@code /metrics}: no API key needed (a scrape token, if set). */
public final class HealthRoutes {

    /** Named checks, each true when healthy. Ready only when all are. */
    public interface Readiness {
        CompletionStage<Map<String, Boolean>> check();
    }

    private final Readiness readiness;
    private final ApiMetrics metrics;
    private final byte[] metricsToken;

    /** @param metricsToken the bearer token {@code /metrics} asks for; empty: none asked */
    public HealthRoutes(Readiness readiness, ApiMetrics metrics, String metricsToken) {
        this.readiness = readiness;
        this.metrics = metrics;
        this.metricsToken = metricsToken.isEmpty() ? null : ("Bearer " + metricsToken).getBytes(StandardCharsets.UTF_8);
    }

    public Route route() {
        return concat(
                pathPrefix("health", () -> concat(
                        path("alive", () -> get(() -> complete(ApiJson.response(StatusCodes.OK, Map.of("status", "alive"))))),
                        path("ready", () -> get(this::ready)))),
                path(segment("metrics"), () -> get(() -> optionalHeaderValueByName("Authorization", header -> {
                    if (metricsToken != null && (header.isEmpty()
                            || !MessageDigest.isEqual(metricsToken, header.get().getBytes(StandardCharsets.UTF_8)))) {
                        return complete(Problems.response(StatusCodes.UNAUTHORIZED,
                                header.isEmpty() ? "missing-credentials" : "invalid-credentials",
                                "/metrics needs the scrape token (drover.http.metrics-token)", null));
                    }
                    return complete(HttpResponse.create().withEntity(
                            HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8, metrics.scrape())));
                }))));
    }

    private Route ready() {
        Supplier<CompletionStage<Map<String, Boolean>>> checks = readiness::check;
        return completeWithFuture(checks.get().thenApply(c -> {
            boolean ok = c.values().stream().allMatch(Boolean::booleanValue);
            return ApiJson.response(ok ? StatusCodes.OK : StatusCodes.SERVICE_UNAVAILABLE,
                    Map.of("status", ok ? "ready" : "not-ready", "checks", new TreeMap<>(c)));
        }));
    }
}
