package io.drover.http;

import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.parameterOptional;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEnd;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import io.drover.device.DeviceKey;
import io.drover.persistence.AlarmDirectory;
import io.drover.rules.Alarm;
import io.drover.rules.Severity;
import io.drover.shard.AlarmClient;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code /api/v1/alarms}: the tenant's alarms. Lists come from the read side (the alarm-list projection, a second or
 * two behind); one alarm by id, ack and clear go to the alarm's entity, so they see and change its current state.
 * Alarm ids are {@code device:type:n}; another tenant's alarm is simply not found.
 */
public final class AlarmRoutes {

    private static final int MAX_PAGE = 500;

    private final AlarmClient alarms;
    private final AlarmDirectory directory;
    private final Clock clock;

    public AlarmRoutes(AlarmClient alarms, AlarmDirectory directory, Clock clock) {
        this.alarms = alarms;
        this.directory = directory;
        this.clock = clock;
    }

    public Route route(Principal principal) {
        return pathPrefix("alarms", () -> concat(
                pathEnd(() -> get(() -> list(principal))),
                pathPrefix(segment(), id -> concat(
                        pathEnd(() -> get(() -> one(principal, id))),
                        path("ack", () -> post(() -> ack(principal, id))),
                        path("clear", () -> post(() -> clear(principal, id)))))));
    }

    private static Alarm.Instance parse(String tenant, String id) {
        Alarm.Instance i = Alarm.Key.parseId(tenant, id);
        if (i == null) {
            throw ApiProblem.notFound("alarm-not-found", "no alarm " + id);
        }
        return i;
    }

    private Route list(Principal principal) {
        return parameterOptional("status", status -> parameterOptional("severity", severity ->
                parameterOptional("deviceId", deviceId -> parameterOptional("type", type ->
                        parameterOptional("cursor", cursor -> parameterOptional("limit", limit -> {
                            String tenant = principal.requireTenant();
                            Alarm.Status st = status.map(s -> switch (s) {
                                case "active" -> Alarm.Status.ACTIVE;
                                case "cleared" -> Alarm.Status.CLEARED;
                                default -> throw ApiProblem.invalidField("status", "status is active or cleared");
                            }).orElse(null);
                            severity.ifPresent(s -> {
                                if (Severity.parse(s) == null) {
                                    throw ApiProblem.invalidField("severity",
                                            "severity is critical, major, minor, warning or indeterminate");
                                }
                            });
                            deviceId.ifPresent(d -> {
                                if (!DeviceKey.validDeviceId(d)) {
                                    throw ApiProblem.invalidField("deviceId", "not a device id");
                                }
                            });
                            int n = limit.map(AlarmRoutes::limit).orElse(100);
                            return completeWithFuture(directory.list(new AlarmDirectory.Query(tenant, st, severity,
                                            deviceId, type, cursor, n))
                                    .exceptionally(Problems::invalidCursor)
                                    .thenApply(p -> ApiJson.response(StatusCodes.OK, new RuleDtos.AlarmPage(
                                            p.items().stream().map(RuleDtos.AlarmDto::of).toList(),
                                            p.nextCursor().orElse(null)))));
                        }))))));
    }

    private static int limit(String s) {
        try {
            int n = Integer.parseInt(s);
            if (n >= 1 && n <= MAX_PAGE) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw ApiProblem.invalidField("limit", "limit is a whole number from 1 to " + MAX_PAGE);
    }

    private Route one(Principal principal, String id) {
        String tenant = principal.requireTenant();
        Alarm.Instance i = parse(tenant, id);
        CompletionStage<Optional<Alarm.AlarmView>> current = alarms.get(i.key())
                .thenApply(v -> v.instance() == i.instance() ? Optional.of(v) : Optional.<Alarm.AlarmView>empty())
                .exceptionally(e -> {
                    if (Problems.unwrap(e) instanceof AlarmClient.Rejected) {
                        return Optional.empty();
                    }
                    throw new java.util.concurrent.CompletionException(e);
                });
        return completeWithFuture(current
                .thenCompose(v -> v.isPresent() ? CompletableFuture.completedFuture(v) : directory.get(tenant, id))
                .thenApply(v -> ApiJson.response(StatusCodes.OK, RuleDtos.AlarmDto.of(v.orElseThrow(
                        () -> ApiProblem.notFound("alarm-not-found", "no alarm " + id))))));
    }

    private Route ack(Principal principal, String id) {
        String tenant = principal.requireTenant();
        principal.requireWrite();
        Alarm.Instance i = parse(tenant, id);
        return completeWithFuture(alarms.acknowledge(i.key(), "key:" + principal.keyId(), i.instance())
                .thenApply(v -> ApiJson.response(StatusCodes.OK, RuleDtos.AlarmDto.of(v))));
    }

    private Route clear(Principal principal, String id) {
        String tenant = principal.requireTenant();
        principal.requireWrite();
        Alarm.Instance i = parse(tenant, id);
        return completeWithFuture(alarms.clear(i.key(), "key:" + principal.keyId(), i.instance(), clock.instant())
                .thenApply(v -> ApiJson.response(StatusCodes.OK, RuleDtos.AlarmDto.of(v))));
    }
}
