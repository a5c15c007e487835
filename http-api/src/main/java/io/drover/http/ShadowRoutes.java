package io.drover.http;

import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.optionalHeaderValueByName;
import static org.apache.pekko.http.javadsl.server.Directives.parameterOptional;
import static org.apache.pekko.http.javadsl.server.Directives.patch;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEnd;

import io.drover.device.Device;
import io.drover.device.DeviceKey;
import io.drover.persistence.ShadowHistory;
import io.drover.shard.DeviceClient;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.EntityTag;
import org.apache.pekko.http.javadsl.model.headers.ETag;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code /api/v1/devices/{id}/shadow}: the twin's desired/reported documents. The shadow version is
 * the ETag; {@code If-Match} makes a desired update conditional (412 when the shadow moved on).
 */
public final class ShadowRoutes {

    private static final int MAX_HISTORY = 1000;

    private final DeviceClient devices;
    private final ShadowHistory history;
    private final ApiMetrics metrics;
    private final Bodies bodies;

    public ShadowRoutes(DeviceClient devices, ShadowHistory history, ApiMetrics metrics, Bodies bodies) {
        this.devices = devices;
        this.history = history;
        this.metrics = metrics;
        this.bodies = bodies;
    }

    Route route(Principal principal, DeviceKey key) {
        return concat(
                pathEnd(() -> get(() -> shadow(key))),
                path("desired", () -> patch(() -> updateDesired(principal, key))),
                path("delta", () -> get(() -> delta(key))),
                path("history", () -> get(() -> history(key))));
    }

    private Route shadow(DeviceKey key) {
        return completeWithFuture(devices.getShadow(key)
                .thenApply(r -> TwinReplies.expect(metrics, "get_shadow", r, Device.ShadowDetails.class))
                .thenApply(s -> withETag(ApiJson.response(StatusCodes.OK, Dtos.ShadowDto.of(key.deviceId(), s.shadow())),
                        s.shadow().version())));
    }

    private Route updateDesired(Principal principal, DeviceKey key) {
        return optionalHeaderValueByName("If-Match", ifMatch -> bodies.json(bytes -> {
            principal.requireWrite();
            var patch = ApiJson.readObject(bytes);
            Optional<Long> expected = ifMatch.flatMap(ShadowRoutes::expectedVersion);
            return completeWithFuture(devices.updateDesired(key, patch, expected)
                    .thenApply(r -> TwinReplies.expect(metrics, "update_desired", r, Device.ShadowDetails.class))
                    .thenApply(s -> withETag(ApiJson.response(StatusCodes.OK,
                            Dtos.ShadowDto.of(key.deviceId(), s.shadow())), s.shadow().version())));
        }));
    }

    /** {@code "3"}, {@code W/"3"} or {@code 3} → 3; {@code *} → no condition; anything else never matches. */
    static Optional<Long> expectedVersion(String ifMatch) {
        String v = ifMatch.trim();
        if (v.equals("*")) {
            return Optional.empty();
        }
        if (v.startsWith("W/")) {
            v = v.substring(2);
        }
        v = v.replace("\"", "");
        try {
            return Optional.of(Long.parseLong(v));
        } catch (NumberFormatException e) {
            throw new ApiProblem(StatusCodes.PRECONDITION_FAILED, "version-mismatch",
                    "If-Match must carry a shadow version (the ETag of GET .../shadow), not " + ifMatch);
        }
    }

    private Route delta(DeviceKey key) {
        return completeWithFuture(devices.getShadow(key)
                .thenApply(r -> TwinReplies.expect(metrics, "get_shadow", r, Device.ShadowDetails.class))
                .thenApply(s -> withETag(ApiJson.response(StatusCodes.OK,
                        new Dtos.DeltaDto(key.deviceId(), s.shadow().version(), s.shadow().delta())), s.shadow().version())));
    }

    private Route history(DeviceKey key) {
        return parameterOptional("at", at -> parameterOptional("limit", limit -> parameterOptional("cursor", cursor -> {
            // 404 for a device that does not exist (or is another tenant's) before reading any journal
            if (at.isPresent()) {
                var exists = devices.get(key)
                        .thenApply(r -> TwinReplies.expect(metrics, "get", r, Device.DeviceDetails.class));
                Instant t = parseInstant(at.get());
                return completeWithFuture(exists.thenCompose(d -> metrics.cassandra("journal_replay",
                                () -> history.stateAt(key, t)))
                        .thenApply(state -> state
                                .map(s -> ApiJson.response(StatusCodes.OK,
                                        new Dtos.ShadowAt(t, Dtos.ShadowDto.of(key.deviceId(), s.shadowView()))))
                                .orElseThrow(() -> ApiProblem.notFound("no-shadow-at-time",
                                        "device " + key.deviceId() + " did not exist at " + t))));
            }
            int n = limit.map(ShadowRoutes::parseLimit).orElse(100);
            long before = cursor.map(ShadowRoutes::parseCursor).orElse(Long.MAX_VALUE);
            return completeWithFuture(devices.ask(key, Device.GetJournalPosition::new)
                    .thenApply(r -> TwinReplies.expect(metrics, "journal_position", r, Device.JournalPosition.class))
                    .thenCompose(p -> metrics.cassandra("journal_replay",
                            () -> history.changes(key, n, before, p.sequenceNr())))
                    .thenApply(page -> ApiJson.response(StatusCodes.OK, new Dtos.ShadowChanges(key.deviceId(),
                            page.changes().stream().map(Dtos.ShadowChangeDto::of).toList(),
                            page.nextCursor().map(String::valueOf).orElse(null)))));
        })));
    }

    private static long parseCursor(String s) {
        try {
            long c = Long.parseLong(s);
            if (c > 0) {
                return c;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw ApiProblem.badRequest("invalid-cursor", "the cursor is not one this API issued");
    }

    private static Instant parseInstant(String s) {
        try {
            return Instant.parse(s);
        } catch (DateTimeParseException e) {
            throw ApiProblem.invalidField("at", "at must be an ISO-8601 instant such as 2026-01-31T12:00:00Z");
        }
    }

    private static int parseLimit(String s) {
        try {
            int n = Integer.parseInt(s);
            if (n >= 1 && n <= MAX_HISTORY) {
                return n;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw ApiProblem.invalidField("limit", "limit is a whole number from 1 to " + MAX_HISTORY);
    }

    private static HttpResponse withETag(HttpResponse r, long version) {
        return r.addHeader(ETag.create(EntityTag.create(Long.toString(version), false)));
    }
}
