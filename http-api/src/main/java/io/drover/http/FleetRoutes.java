package io.drover.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.parameterOptional;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import io.drover.persistence.AlarmDirectory;
import io.drover.persistence.DeviceDirectory;
import io.drover.persistence.DeviceListing;
import io.drover.persistence.TelemetrySample;
import io.drover.persistence.TelemetryStore;
import io.drover.rules.Alarm;
import io.drover.rules.Severity;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /api/v1/me} (who the key is: the console shows the role and hides what it may not do) and
 * {@code GET /api/v1/fleet/summary} (the fleet page's counts) and {@code GET /api/v1/fleet/positions} (the map's
 * devices, a page of the device list at a time).
 *
 * <p>A summary reads every device row of the tenant (two small columns) and its active alarms, up to the bounds of
 * {@code drover.http.fleet}; past a bound the figures are lower bounds and {@code complete} is false. That is
 * O(devices) reads, so each node keeps one answer per tenant for {@code summary-cache-ttl} (and shares one read in
 * flight), for at most {@code summary-cache-tenants} tenants; {@code computedAt} says how old an answer is.
 */
public final class FleetRoutes {

    /** {@code drover.http.fleet}. */
    public record Settings(int summaryMaxDevices, int summaryMaxAlarms, Duration summaryCacheTtl, int summaryCacheTenants,
            int positionsMaxPage, int positionsParallelism) {}

    /** A device on the map: its newest {@code lat}/{@code lon} telemetry and when it was sent. */
    public record Position(String id, String name, String type, boolean online, double lat, double lon, long ts) {}

    public record Positions(List<Position> items, int devicesRead, String nextCursor) {}

    public record Me(String keyId, String tenantId, String role, boolean canWrite, boolean admin) {}

    public record AlarmCounts(long active, long unacknowledged, Map<String, Long> bySeverity) {}

    public record DeviceCounts(long total, long online, Map<String, Long> byState) {}

    public record Summary(DeviceCounts devices, AlarmCounts alarms, boolean complete, Instant computedAt) {}

    private record Cached(CompletionStage<Summary> summary, Instant at) {}

    private static final int ALARM_PAGE = 500;

    private static final Set<String> LAT_LON = Set.of("lat", "lon");

    private final DeviceDirectory devices;
    private final TelemetryStore telemetry;
    private final AlarmDirectory alarms;
    private final ApiMetrics metrics;
    private final Settings settings;
    private final Clock clock;
    /** Access-ordered and bounded: the least recently asked tenant goes first. */
    private final Map<String, Cached> cache = new LinkedHashMap<>(16, 0.75f, true);

    public FleetRoutes(DeviceDirectory devices, TelemetryStore telemetry, AlarmDirectory alarms, ApiMetrics metrics,
            Settings settings, Clock clock) {
        this.devices = devices;
        this.telemetry = telemetry;
        this.alarms = alarms;
        this.metrics = metrics;
        this.settings = settings;
        this.clock = clock;
    }

    public Route route(Principal principal) {
        return concat(
                path("me", () -> get(() -> complete(ApiJson.response(StatusCodes.OK, me(principal))))),
                path(segment("fleet").slash("summary"), () -> get(() -> completeWithFuture(
                        summary(principal.requireTenant()).thenApply(s -> ApiJson.response(StatusCodes.OK, s))))),
                path(segment("fleet").slash("positions"), () -> get(() -> parameterOptional("cursor", cursor ->
                        parameterOptional("limit", limit -> {
                            String tenant = principal.requireTenant();
                            int n = limit.map(l -> DeviceRoutes.parsePositive("limit", l)).orElse(settings.positionsMaxPage());
                            if (n > settings.positionsMaxPage()) {
                                throw ApiProblem.invalidField("limit", "limit is at most " + settings.positionsMaxPage());
                            }
                            return completeWithFuture(positions(tenant, cursor, n)
                                    .thenApply(p -> ApiJson.response(StatusCodes.OK, p)));
                        })))));
    }

    static Me me(Principal p) {
        return new Me(p.keyId(), p.platformAdmin() ? null : p.tenantId(), p.role().wire(), p.canWrite(), p.admin());
    }

    /**
     * One page of the device list and the newest {@code lat}/{@code lon} of each listed device, read
     * {@code positions-parallelism} at a time; devices without a numeric position are left out of {@code items}
     * ({@code devicesRead} counts them all), so a client pages on while {@code nextCursor} is there.
     */
    CompletionStage<Positions> positions(String tenant, Optional<String> cursor, int limit) {
        return metrics.cassandra("devices_list", () -> devices.list(new DeviceDirectory.Query(tenant, cursor, limit,
                        Optional.empty(), Optional.empty())))
                .exceptionally(Problems::invalidCursor)
                .thenCompose(page -> {
                    List<DeviceListing> listed = page.items();
                    Position[] found = new Position[listed.size()];
                    CompletableFuture<Void> chain = window(listed.size(), settings.positionsParallelism(), i -> {
                        DeviceListing d = listed.get(i);
                        return metrics.cassandra("telemetry_latest", () -> telemetry.latest(tenant, d.deviceId(), LAT_LON))
                                .thenAccept(v -> found[i] = position(d, v));
                    });
                    return chain.thenApply(x -> new Positions(
                            java.util.Arrays.stream(found).filter(java.util.Objects::nonNull).toList(), listed.size(),
                            page.nextCursor().orElse(null)));
                });
    }

    /**
     * Runs {@code task} for 0..n-1 with at most {@code parallelism} in flight, starting the next as soon as one ends
     * (a sliding window: no batch waits for its slowest read); fails with the first failure.
     */
    static CompletableFuture<Void> window(int n, int parallelism, java.util.function.IntFunction<CompletionStage<?>> task) {
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        List<CompletableFuture<Void>> workers = new ArrayList<>();
        for (int w = 0; w < Math.min(n, parallelism); w++) {
            CompletableFuture<Void> done = new CompletableFuture<>();
            workers.add(done);
            step(next, n, task, done);
        }
        return CompletableFuture.allOf(workers.toArray(CompletableFuture[]::new));
    }

    private static void step(java.util.concurrent.atomic.AtomicInteger next, int n,
            java.util.function.IntFunction<CompletionStage<?>> task, CompletableFuture<Void> done) {
        while (true) { // a loop, not a recursion, over tasks that are done at once (no stack grows with n)
            int i = next.getAndIncrement();
            if (i >= n) {
                done.complete(null);
                return;
            }
            CompletableFuture<?> f = task.apply(i).toCompletableFuture();
            if (f.isDone() && !f.isCompletedExceptionally()) {
                continue;
            }
            f.whenComplete((x, e) -> {
                if (e != null) {
                    done.completeExceptionally(e);
                } else {
                    step(next, n, task, done);
                }
            });
            return;
        }
    }

    private static Position position(DeviceListing d, Map<String, TelemetrySample> v) {
        TelemetrySample lat = v.get("lat");
        TelemetrySample lon = v.get("lon");
        if (lat == null || lon == null || lat.number() == null || lon.number() == null) {
            return null;
        }
        double a = lat.number();
        double o = lon.number();
        if (!(a >= -90 && a <= 90 && o >= -180 && o <= 180)) {
            return null;
        }
        return new Position(d.deviceId(), d.name(), d.type(), d.online(), a, o,
                Math.max(lat.ts().toEpochMilli(), lon.ts().toEpochMilli()));
    }

    CompletionStage<Summary> summary(String tenant) {
        Instant now = clock.instant();
        synchronized (cache) {
            Cached c = cache.get(tenant);
            if (c != null && c.at().plus(settings.summaryCacheTtl()).isAfter(now)) {
                return c.summary();
            }
            CompletionStage<Summary> fresh = compute(tenant, now);
            cache.put(tenant, new Cached(fresh, now));
            while (cache.size() > settings.summaryCacheTenants()) {
                cache.remove(cache.keySet().iterator().next());
            }
            // a failed read is not kept: the next call tries again
            fresh.whenComplete((s, e) -> {
                if (e != null) {
                    synchronized (cache) {
                        cache.remove(tenant, new Cached(fresh, now));
                    }
                }
            });
            return fresh;
        }
    }

    private CompletionStage<Summary> compute(String tenant, Instant at) {
        CompletionStage<DeviceDirectory.Summary> d = metrics.cassandra("fleet_devices",
                () -> devices.summary(tenant, settings.summaryMaxDevices()));
        CompletionStage<AlarmTally> a = metrics.cassandra("fleet_alarms",
                () -> tally(tenant, Optional.empty(), new AlarmTally()));
        return d.thenCombine(a, (ds, as) -> new Summary(
                new DeviceCounts(ds.devices(), ds.online(), ds.byLifecycle()),
                new AlarmCounts(as.active, as.unacknowledged, as.bySeverity), ds.complete() && as.complete, at));
    }

    private static final class AlarmTally {
        long active;
        long unacknowledged;
        boolean complete = true;
        final Map<String, Long> bySeverity = new LinkedHashMap<>();

        AlarmTally() {
            for (Severity s : Severity.values()) {
                bySeverity.put(s.wire(), 0L);
            }
        }
    }

    private CompletionStage<AlarmTally> tally(String tenant, Optional<String> cursor, AlarmTally t) {
        return alarms.list(new AlarmDirectory.Query(tenant, Alarm.Status.ACTIVE, Optional.empty(), Optional.empty(),
                Optional.empty(), cursor, ALARM_PAGE)).thenCompose(page -> {
                    for (Alarm.AlarmView v : page.items()) {
                        t.active++;
                        t.unacknowledged += v.acknowledged() ? 0 : 1;
                        if (v.severity() != null) {
                            t.bySeverity.merge(v.severity().wire(), 1L, Long::sum);
                        }
                    }
                    if (page.nextCursor().isEmpty()) {
                        return CompletableFuture.completedFuture(t);
                    }
                    if (t.active >= settings.summaryMaxAlarms()) {
                        t.complete = false;
                        return CompletableFuture.completedFuture(t);
                    }
                    return tally(tenant, page.nextCursor(), t);
                });
    }
}
