package io.drover.http;

import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.parameterOptional;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEnd;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.drover.device.Device;
import io.drover.device.DeviceKey;
import io.drover.persistence.DeviceDirectory;
import io.drover.persistence.DeviceListing;
import io.drover.persistence.Rollup;
import io.drover.persistence.RollupWindow.Resolution;
import io.drover.persistence.TelemetrySample;
import io.drover.persistence.TelemetryStore;
import io.drover.shard.DeviceClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Telemetry queries: {@code /devices/{id}/telemetry} (raw samples with a cursor, or aggregates served
 * from the stored rollups), {@code /devices/{id}/telemetry/latest}, and {@code /telemetry/latest} for many
 * devices of the tenant (by ids or by label). Times are epoch milliseconds in responses; parameters take
 * epoch milliseconds or ISO-8601.
 */
public final class TelemetryRoutes {

    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9_.\\-]{1,64}");
    private static final Map<String, Duration> INTERVALS = new LinkedHashMap<>();

    static {
        for (String i : List.of("1m", "5m", "15m", "30m", "1h", "6h", "12h", "1d")) {
            char unit = i.charAt(i.length() - 1);
            long n = Long.parseLong(i.substring(0, i.length() - 1));
            INTERVALS.put(i, unit == 'm' ? Duration.ofMinutes(n) : unit == 'h' ? Duration.ofHours(n) : Duration.ofDays(n));
        }
    }

    private static final Set<String> AGGREGATIONS = Set.of("avg", "min", "max", "sum", "count");

    private final TelemetryStore store;
    private final DeviceClient devices;
    private final DeviceDirectory directory;
    private final ApiMetrics metrics;
    private final HttpSettings.Telemetry limits;
    private final Clock clock;

    public TelemetryRoutes(TelemetryStore store, DeviceClient devices, DeviceDirectory directory, ApiMetrics metrics,
            HttpSettings.Telemetry limits, Clock clock) {
        this.store = store;
        this.devices = devices;
        this.directory = directory;
        this.metrics = metrics;
        this.limits = limits;
        this.clock = clock;
    }

    /** Under {@code /devices/{id}/telemetry}. */
    public Route deviceRoute(DeviceKey key) {
        return concat(
                pathEnd(() -> get(() -> query(key))),
                path("latest", () -> get(() -> parameterOptional("keys", keys -> latestOne(key, keys)))));
    }

    /** {@code /telemetry/latest} of many devices. */
    public Route tenantRoute(Principal principal) {
        return pathPrefix("telemetry", () -> path("latest", () -> get(() -> latestMany(principal))));
    }

    // ------------------------------------------------------------------------------- raw and aggregated

    private Route query(DeviceKey key) {
        return parameterOptional("keys", keys -> parameterOptional("from", from -> parameterOptional("to", to ->
                parameterOptional("limit", limit -> parameterOptional("order", order -> parameterOptional("cursor", cursor ->
                        parameterOptional("agg", agg -> parameterOptional("interval", interval -> {
                            Instant t = to.map(v -> time("to", v)).orElse(clock.instant());
                            Instant f = from.map(v -> time("from", v)).orElse(t.minus(Duration.ofDays(1)));
                            if (!f.isBefore(t)) {
                                throw ApiProblem.badRequest("invalid-range", "from must be before to");
                            }
                            boolean asc = order.map(TelemetryRoutes::ascending).orElse(false);
                            List<String> keyList = keys(keys);
                            if (agg.isPresent() || interval.isPresent()) {
                                return aggregated(key, keyList, f, t, asc, agg, interval);
                            }
                            int n = limit.map(l -> positive("limit", l)).orElse(limits.defaultLimit());
                            if (n > limits.maxPoints()) {
                                throw ApiProblem.badRequest("too-many-points", "limit is at most " + limits.maxPoints()
                                        + "; use the cursor for more");
                            }
                            if (Duration.between(f, t).compareTo(limits.maxRawRange()) > 0) {
                                throw ApiProblem.badRequest("range-too-large", "raw samples are read over at most "
                                        + limits.maxRawRange().toDays() + " days; use agg and interval for longer ranges");
                            }
                            return completeWithFuture(exists(key)
                                    .thenCompose(x -> keyList.isEmpty() ? knownKeys(key) : CompletableFuture.completedFuture(keyList))
                                    .thenCompose(ks -> metrics.cassandra("telemetry_raw", () -> store.readRaw(
                                            new TelemetryStore.RawQuery(key.tenantId(), key.deviceId(), ks, f, t, asc, n, cursor))))
                                    .exceptionally(Problems::invalidCursor)
                                    .thenApply(page -> {
                                        ObjectNode body = header(key, f, t, asc);
                                        ObjectNode series = body.putObject("series");
                                        page.series().forEach((k, samples) -> {
                                            ArrayNode arr = series.putArray(k);
                                            samples.forEach(s -> arr.add(point(s)));
                                        });
                                        page.nextCursor().ifPresent(c -> body.put("nextCursor", c));
                                        return ApiJson.response(StatusCodes.OK, body);
                                    }));
                        }))))))));
    }

    private Route aggregated(DeviceKey key, List<String> keyList, Instant from, Instant to, boolean asc,
            Optional<String> agg, Optional<String> interval) {
        String a = agg.orElseThrow(() -> ApiProblem.badRequest("missing-aggregation", "interval needs agg=avg|min|max|sum|count"));
        if (!AGGREGATIONS.contains(a)) {
            throw ApiProblem.badRequest("unknown-aggregation", "agg is one of avg, min, max, sum, count");
        }
        String i = interval.orElseThrow(() -> ApiProblem.badRequest("missing-interval", "agg needs interval=" + INTERVALS.keySet()));
        Duration step = INTERVALS.get(i);
        if (step == null) {
            throw ApiProblem.badRequest("unknown-interval", "interval is one of " + String.join(", ", INTERVALS.keySet()));
        }
        long stepMs = step.toMillis();
        Instant f = Instant.ofEpochMilli(Math.floorDiv(from.toEpochMilli(), stepMs) * stepMs);
        Instant t = Instant.ofEpochMilli(-Math.floorDiv(-to.toEpochMilli(), stepMs) * stepMs);
        long points = (t.toEpochMilli() - f.toEpochMilli()) / stepMs;
        if (points > limits.maxPoints()) {
            throw ApiProblem.badRequest("too-many-points", points + " intervals; at most " + limits.maxPoints()
                    + " per query: use a larger interval or a shorter range");
        }
        Resolution source = stepMs % Resolution.HOUR.millis == 0 ? Resolution.HOUR : Resolution.MINUTE;
        if ((t.toEpochMilli() - f.toEpochMilli()) / source.millis > limits.maxRollupRows()) {
            throw ApiProblem.badRequest("range-too-large", "this range needs too many rollup rows at interval " + i
                    + "; use a larger interval");
        }
        CompletionStage<HttpResponse> response = exists(key)
                .thenCompose(x -> keyList.isEmpty() ? knownKeys(key) : CompletableFuture.completedFuture(keyList))
                .thenCompose(ks -> {
                    List<CompletableFuture<List<Rollup>>> reads = new ArrayList<>();
                    for (String k : ks) {
                        reads.add(metrics.cassandra("telemetry_rollups", () -> store.readRollups(key.tenantId(), key.deviceId(),
                                k, source, f, t)).toCompletableFuture());
                    }
                    return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).thenApply(v -> {
                        ObjectNode body = header(key, f, t, asc);
                        body.put("agg", a);
                        body.put("interval", i);
                        body.put("source", source == Resolution.HOUR ? "rollup-1h" : "rollup-1m");
                        ObjectNode series = body.putObject("series");
                        for (int n = 0; n < ks.size(); n++) {
                            TreeMap<Long, Rollup> byInterval = new TreeMap<>();
                            for (Rollup r : reads.get(n).join()) {
                                long b = Math.floorDiv(r.bucket().toEpochMilli(), stepMs) * stepMs;
                                byInterval.merge(b, r.withBucket(Instant.ofEpochMilli(b)), (x, y) -> x.merge(y));
                            }
                            ArrayNode arr = series.putArray(ks.get(n));
                            (asc ? byInterval.values() : byInterval.descendingMap().values()).forEach(r -> {
                                ObjectNode p = arr.addObject();
                                p.put("ts", r.bucket().toEpochMilli());
                                switch (a) {
                                    case "avg" -> p.put("value", r.avg());
                                    case "min" -> p.put("value", r.min());
                                    case "max" -> p.put("value", r.max());
                                    case "sum" -> p.put("value", r.sum());
                                    default -> p.put("value", r.count());
                                }
                                p.put("count", r.count());
                            });
                        }
                        return ApiJson.response(StatusCodes.OK, body);
                    });
                });
        return completeWithFuture(response);
    }

    // ------------------------------------------------------------------------------------------ latest

    private Route latestOne(DeviceKey key, Optional<String> keys) {
        Set<String> ks = new LinkedHashSet<>(keys(keys));
        return completeWithFuture(exists(key)
                .thenCompose(x -> metrics.cassandra("telemetry_latest", () -> store.latest(key.tenantId(), key.deviceId(), ks)))
                .thenApply(values -> ApiJson.response(StatusCodes.OK, latestNode(key.deviceId(), values))));
    }

    private Route latestMany(Principal principal) {
        String tenant = principal.requireTenant();
        return parameterOptional("deviceIds", ids -> parameterOptional("label", label -> parameterOptional("keys", keys ->
                parameterOptional("cursor", cursor -> parameterOptional("limit", limit -> {
                    Set<String> ks = new LinkedHashSet<>(keys(keys));
                    if (ids.isPresent() == label.isPresent()) {
                        throw ApiProblem.badRequest("invalid-parameter", "give either deviceIds or label");
                    }
                    CompletionStage<Map.Entry<List<String>, Optional<String>>> targets;
                    if (ids.isPresent()) {
                        List<String> list = split(ids.get());
                        if (list.isEmpty() || list.size() > limits.maxLatestDevices()) {
                            throw ApiProblem.badRequest("too-many-devices", "deviceIds holds 1 to "
                                    + limits.maxLatestDevices() + " ids; use label with its cursor for more");
                        }
                        list.forEach(d -> DeviceRoutes.key(principal, d));
                        targets = CompletableFuture.completedFuture(Map.entry(list, Optional.empty()));
                    } else {
                        int n = limit.map(l -> positive("limit", l)).orElse(limits.maxLatestDevices());
                        if (n > limits.maxLatestDevices()) {
                            throw ApiProblem.badRequest("too-many-devices", "limit is at most " + limits.maxLatestDevices());
                        }
                        targets = metrics.cassandra("devices_list", () -> directory.list(new DeviceDirectory.Query(tenant,
                                        cursor, n, Optional.empty(), label)))
                                .exceptionally(Problems::invalidCursor)
                                .thenApply(page -> Map.entry(page.items().stream().map(DeviceListing::deviceId).toList(),
                                        page.nextCursor()));
                    }
                    return completeWithFuture(targets.thenCompose(tg -> {
                        List<CompletableFuture<Map<String, TelemetrySample>>> reads = new ArrayList<>();
                        for (String d : tg.getKey()) {
                            reads.add(metrics.cassandra("telemetry_latest", () -> store.latest(tenant, d, ks)).toCompletableFuture());
                        }
                        return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).thenApply(v -> {
                            ObjectNode body = ApiJson.MAPPER.createObjectNode();
                            ArrayNode arr = body.putArray("devices");
                            for (int n = 0; n < reads.size(); n++) {
                                arr.add(latestNode(tg.getKey().get(n), reads.get(n).join()));
                            }
                            tg.getValue().ifPresent(c -> body.put("nextCursor", c));
                            return ApiJson.response(StatusCodes.OK, body);
                        });
                    }));
                })))));
    }

    private static ObjectNode latestNode(String deviceId, Map<String, TelemetrySample> values) {
        ObjectNode node = ApiJson.MAPPER.createObjectNode();
        node.put("deviceId", deviceId);
        ObjectNode v = node.putObject("values");
        values.forEach((k, s) -> v.set(k, point(s)));
        return node;
    }

    // ------------------------------------------------------------------------------------------ helpers

    private CompletionStage<Void> exists(DeviceKey key) {
        return devices.get(key).thenApply(r -> {
            TwinReplies.expect(metrics, "get", r, Device.DeviceDetails.class);
            return null;
        });
    }

    private CompletionStage<List<String>> knownKeys(DeviceKey key) {
        return metrics.cassandra("telemetry_keys", () -> store.keys(key.tenantId(), key.deviceId())).thenApply(ks -> {
            if (ks.size() > limits.maxKeys()) {
                throw ApiProblem.badRequest("too-many-keys", "this device has " + ks.size()
                        + " keys; name at most " + limits.maxKeys() + " with keys=");
            }
            return ks;
        });
    }

    public static ObjectNode point(TelemetrySample s) {
        ObjectNode p = ApiJson.MAPPER.createObjectNode();
        p.put("ts", s.ts().toEpochMilli());
        if (s.number() != null) {
            p.put("value", s.number());
        } else if (s.text() != null) {
            p.put("value", s.text());
        } else if (s.bool() != null) {
            p.put("value", s.bool());
        } else if (s.json() != null) {
            try {
                p.set("value", ApiJson.MAPPER.readTree(s.json()));
            } catch (Exception e) {
                p.put("value", s.json());
            }
        }
        return p;
    }

    private static ObjectNode header(DeviceKey key, Instant f, Instant t, boolean asc) {
        ObjectNode body = ApiJson.MAPPER.createObjectNode();
        body.put("deviceId", key.deviceId());
        body.put("from", f.toEpochMilli());
        body.put("to", t.toEpochMilli());
        body.put("order", asc ? "asc" : "desc");
        return body;
    }

    private List<String> keys(Optional<String> keys) {
        if (keys.isEmpty()) {
            return List.of();
        }
        List<String> list = new ArrayList<>(new LinkedHashSet<>(split(keys.get())));
        if (list.size() > limits.maxKeys()) {
            throw ApiProblem.badRequest("too-many-keys", "at most " + limits.maxKeys() + " keys per query");
        }
        for (String k : list) {
            if (!KEY.matcher(k).matches()) {
                throw ApiProblem.invalidField("keys", "key '" + k + "' is not 1-64 of A-Z a-z 0-9 _ . -");
            }
        }
        return list;
    }

    private static List<String> split(String csv) {
        return Arrays.stream(csv.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
    }

    static Instant time(String field, String v) {
        try {
            if (v.chars().allMatch(Character::isDigit) && !v.isEmpty() && v.length() <= 15) {
                return Instant.ofEpochMilli(Long.parseLong(v));
            }
            return Instant.parse(v);
        } catch (DateTimeParseException | NumberFormatException e) {
            throw ApiProblem.invalidField(field, field + " is epoch milliseconds or an ISO-8601 instant");
        }
    }

    private static boolean ascending(String order) {
        if (order.equals("asc")) {
            return true;
        }
        if (order.equals("desc")) {
            return false;
        }
        throw ApiProblem.invalidField("order", "order is asc or desc");
    }

    private static int positive(String field, String v) {
        try {
            int n = Integer.parseInt(v);
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw ApiProblem.invalidField(field, field + " is a positive whole number");
    }
}
