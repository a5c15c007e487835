package io.drover.http;

import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.extractUnmatchedPath;
import static org.apache.pekko.http.javadsl.server.Directives.parameterOptional;
import static org.apache.pekko.http.javadsl.server.Directives.handleExceptions;
import static org.apache.pekko.http.javadsl.server.Directives.handleRejections;
import static org.apache.pekko.http.javadsl.server.Directives.mapResponse;
import static org.apache.pekko.http.javadsl.server.Directives.onSuccess;
import static org.apache.pekko.http.javadsl.server.Directives.optionalHeaderValueByName;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import java.net.InetAddress;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.RemoteAddress;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The root route: correlation id, metrics, the one exception and rejection handler; health, metrics and the
 * API's description (OpenAPI, Swagger UI) without a key; the device API (device tokens); and {@code /api/v1}
 * behind API-key authentication.
 */
public final class ApiRoutes {

    private static final Pattern SAFE_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    private final Authenticator auth;
    private final DeviceApiRoutes deviceApi;
    private final DeviceRoutes devices;
    private final TenantRoutes tenants;
    private final ApiKeyRoutes apiKeys;
    private final HealthRoutes health;
    private final TelemetryRoutes telemetry;
    private final LiveRoutes live;
    private final RuleRoutes rules;
    private final AlarmRoutes alarms;
    private final FleetRoutes fleet;
    private final ApiMetrics metrics;
    private final DocsRoutes docs = new DocsRoutes();
    private final ConsoleRoutes console = new ConsoleRoutes();
    private final RejectionHandler rejections = Problems.rejectionHandler();

    public ApiRoutes(Authenticator auth, DeviceApiRoutes deviceApi, DeviceRoutes devices, TenantRoutes tenants,
            ApiKeyRoutes apiKeys, TelemetryRoutes telemetry, LiveRoutes live, RuleRoutes rules, AlarmRoutes alarms,
            FleetRoutes fleet, HealthRoutes health, ApiMetrics metrics) {
        this.fleet = fleet;
        this.telemetry = telemetry;
        this.rules = rules;
        this.alarms = alarms;
        this.live = live;
        this.auth = auth;
        this.deviceApi = deviceApi;
        this.devices = devices;
        this.tenants = tenants;
        this.apiKeys = apiKeys;
        this.health = health;
        this.metrics = metrics;
    }

    public Route route() {
        return extractRequest(request -> {
            long start = System.nanoTime();
            String correlationId = request.getHeader("X-Request-Id").map(h -> h.value())
                    .filter(v -> SAFE_ID.matcher(v).matches()).orElseGet(() -> UUID.randomUUID().toString());
            return mapResponse(response -> {
                metrics.http(routeLabel(request), request.method().value(), response.status().intValue(),
                        System.nanoTime() - start);
                return response.addHeader(RawHeader.create("X-Request-Id", correlationId));
            }, () -> handleExceptions(Problems.exceptionHandler(correlationId, metrics), () ->
                    handleRejections(rejections, () -> concat(
                            health.route(),
                            docs.route(),
                            console.route(),
                            pathPrefix(segment("api").slash("v1"), this::api)))));
        });
    }

    private Route api() {
        return extractRequest(request -> api(source(request)));
    }

    /**
     * The client's address as the socket saw it ({@code pekko.http.server.remote-address-attribute = on}), never a
     * header such as X-Forwarded-For that the client chooses: the key of the failed-authentication limit.
     */
    static String source(HttpRequest request) {
        return request.getAttribute(AttributeKeys.remoteAddress).flatMap(RemoteAddress::getAddress)
                .map(InetAddress::getHostAddress).orElse("unknown");
    }

    private Route api(String source) {
        return concat(deviceApi.route(source), optionalHeaderValueByName("Authorization", header ->
                optionalHeaderValueByName("Sec-WebSocket-Protocol", protocols ->
                extractUnmatchedPath(rest -> parameterOptional("access_token", token -> {
                    // Browsers cannot set headers on a WebSocket: /ws also takes the key as the subprotocol
                    // "bearer.<key>" (offered next to "drover"), or, for tools, as ?access_token= (which proxies log).
                    Optional<String> credentials = header.isPresent() || !rest.equals("/ws") ? header
                            : LiveRoutes.keyOf(protocols).or(() -> token).map(t -> "Bearer " + t);
                    return onSuccess(auth.authenticate(credentials, source), principal -> concat(
                            devices.route(principal),
                            telemetry.tenantRoute(principal),
                            live.route(principal, () -> auth.stillValid(credentials)),
                            rules.route(principal),
                            alarms.route(principal),
                            fleet.route(principal),
                            tenants.route(principal),
                            apiKeys.route(principal)));
                })))));
    }

    /** The route template for metrics (a fixed set, so label cardinality stays bounded whoever sends what). */
    static String routeLabel(HttpRequest request) {
        return RouteTemplates.of(request.getUri().path());
    }
}
