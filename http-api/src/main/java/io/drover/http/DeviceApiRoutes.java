package io.drover.http;

import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.onSuccess;
import static org.apache.pekko.http.javadsl.server.Directives.optionalHeaderValueByName;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import io.drover.device.Credentials;
import io.drover.device.Device;
import io.drover.device.DeviceKey;
import io.drover.shard.DeviceClient;
import io.drover.shard.FailureLimiter;
import io.drover.telemetry.TelemetryCodec;
import io.drover.telemetry.TelemetryHub;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code /api/v1/device-api}: for devices that cannot speak MQTT. A device names itself with
 * {@code X-Device-Id: tenant:device} and proves it with {@code Authorization: Bearer <device token>};
 * the same payload rules and error codes as over MQTT, and the same contract: the answer comes only
 * after the effect is durable.
 */
public final class DeviceApiRoutes {

    private final DeviceClient devices;
    private final TelemetryHub telemetry;
    private final ApiMetrics metrics;
    private final Bodies bodies;
    private final FailureLimiter failures;

    public DeviceApiRoutes(DeviceClient devices, TelemetryHub telemetry, FailureLimiter failures, ApiMetrics metrics,
            Bodies bodies) {
        this.devices = devices;
        this.failures = failures;
        this.telemetry = telemetry;
        this.metrics = metrics;
        this.bodies = bodies;
    }

    /** @param source the client's address: failed authentications are limited per address */
    public Route route(String source) {
        return pathPrefix(segment("device-api"), () -> concat(
                path("telemetry", () -> post(() -> asDevice(source, this::telemetry))),
                path(segment("shadow").slash("reported"), () -> post(() -> asDevice(source, this::reported)))));
    }

    /**
     * Authenticates the device, then reads the body (never before: a stranger's request costs no body read), and
     * answers with {@code handler}'s response.
     */
    private Route asDevice(String source, BiFunction<DeviceKey, byte[], CompletionStage<HttpResponse>> handler) {
        return optionalHeaderValueByName("X-Device-Id", id -> optionalHeaderValueByName("Authorization", auth -> {
            DeviceKey key = id.flatMap(DeviceApiRoutes::parse)
                    .orElseThrow(() -> unauthorized("send X-Device-Id: {tenantId}:{deviceId}"));
            String token = auth.filter(a -> a.regionMatches(true, 0, "Bearer ", 0, 7)).map(a -> a.substring(7).trim())
                    .orElseThrow(() -> unauthorized("send 'Authorization: Bearer <device token>'"));
            return onSuccess(authenticate(source, key, token),
                    k -> bodies.json(bytes -> completeWithFuture(handler.apply(k, bytes))));
        }));
    }

    private CompletionStage<DeviceKey> authenticate(String source, DeviceKey key, String token) {
        if (failures.blocked(source)) {
            metrics.rejected("too-many-auth-failures");
            return CompletableFuture.failedFuture(new ApiProblem(StatusCodes.TOO_MANY_REQUESTS,
                    "too-many-auth-failures", "too many failed authentications from this address; try again later",
                    Map.of("retryAfterSeconds", 1)));
        }
        return devices.get(key).thenApply(reply -> {
            if (reply instanceof Device.DeviceDetails d && Credentials.matches(token, d.device().tokenHash())) {
                Device.Lifecycle s = d.device().lifecycle();
                if (s == Device.Lifecycle.PROVISIONED || s == Device.Lifecycle.ACTIVE) {
                    return key;
                }
                metrics.rejected("device-not-active");
                throw new ApiProblem(StatusCodes.FORBIDDEN, "device-not-active", "the device is " + s.name().toLowerCase());
            }
            failures.failed(source);
            metrics.rejected("invalid-device-credentials");
            throw unauthorized("unknown device or wrong token");
        });
    }

    private CompletionStage<HttpResponse> telemetry(DeviceKey key, byte[] body) {
        TelemetryCodec.Result r = telemetry.codec().decode(key, body, Instant.now());
        if (r instanceof TelemetryCodec.Invalid bad) {
            metrics.rejected(bad.code());
            throw ApiProblem.badRequest(bad.code(), bad.detail());
        }
        var samples = ((TelemetryCodec.Samples) r).samples();
        return telemetry.admit(samples).thenCompose(bad -> {
            if (bad.isPresent()) {
                metrics.rejected(bad.get().code());
                throw ApiProblem.badRequest(bad.get().code(), bad.get().detail());
            }
            return telemetry.submit(samples);
        })
                .exceptionally(e -> {
                    Throwable c = Problems.unwrap(e);
                    if (c instanceof TelemetryHub.Overloaded) {
                        metrics.rejected("overloaded");
                        throw new ApiProblem(StatusCodes.SERVICE_UNAVAILABLE, "overloaded",
                                "Drover is taking telemetry more slowly than it arrives; send again shortly",
                                Map.of("retryAfterSeconds", 1));
                    }
                    throw c instanceof RuntimeException re ? re : new java.util.concurrent.CompletionException(c);
                })
                .thenApply(x -> ApiJson.response(StatusCodes.OK, Map.of("stored", samples.size())));
    }

    private CompletionStage<HttpResponse> reported(DeviceKey key, byte[] body) {
        var patch = ApiJson.readObject(body);
        return devices.updateReported(key, patch, Optional.empty())
                .thenApply(reply -> TwinReplies.expect(metrics, "update_reported", reply, Device.ShadowDetails.class))
                .thenApply(s -> ApiJson.response(StatusCodes.OK, Dtos.ShadowDto.of(key.deviceId(), s.shadow())));
    }

    private static Optional<DeviceKey> parse(String id) {
        int i = id.indexOf(':');
        try {
            return i > 0 ? Optional.of(new DeviceKey(id.substring(0, i), id.substring(i + 1))) : Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private static ApiProblem unauthorized(String detail) {
        return new ApiProblem(StatusCodes.UNAUTHORIZED, "invalid-device-credentials", detail);
    }

}
