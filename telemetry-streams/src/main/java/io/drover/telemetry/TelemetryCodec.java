package io.drover.telemetry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.drover.device.DeviceKey;
import io.drover.shard.BoundedCache;
import io.drover.persistence.TelemetrySample;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * Decodes a telemetry payload. Accepted shapes: {@code {"ts": epoch-ms?, "values": {key: value}}},
 * a plain object of values, or an array of either (up to {@link #MAX_ENTRIES}). Values are numbers,
 * strings, booleans, or JSON objects/arrays (stored as compact JSON text; not aggregated). Anything else is a value with a stable error code, never an exception.
 */
public final class TelemetryCodec {

    public static final int MAX_ENTRIES = 100;
    public static final int MAX_KEYS = 256;
    public static final int MAX_STRING = 1024;
    /** Longest JSON value (object or array), as compact text. */
    public static final int MAX_JSON = 4096;
    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9_.\\-]{1,64}");
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    public sealed interface Result {}

    public record Samples(List<TelemetrySample> samples) implements Result {}

    public record Invalid(String code, String detail) implements Result {}

    private final int maxPayloadBytes;
    private final Duration maxClockSkew;

    /**
     * Per device, the last server time handed to a sample without a device timestamp: each such entry gets a
     * millisecond of its own (two entries of one message, or two messages received in the same millisecond,
     * are two rows, not one upsert over the other). Bounded; an entry a minute old is behind the clock anyway.
     */
    private final BoundedCache<DeviceKey, AtomicLong> serverClock = new BoundedCache<>(100_000, Duration.ofMinutes(1));

    public TelemetryCodec(int maxPayloadBytes, Duration maxClockSkew) {
        this.maxPayloadBytes = maxPayloadBytes;
        this.maxClockSkew = maxClockSkew;
    }

    /** {@code n} consecutive milliseconds for the device's entries without "ts": from the receive time on, after any
     * handed out before. */
    private long reserve(DeviceKey device, int n, long now) {
        AtomicLong last = serverClock.computeIfAbsent(device, k -> new AtomicLong(Long.MIN_VALUE));
        return last.updateAndGet(prev -> Math.max(now, prev == Long.MIN_VALUE ? now : prev + 1) + n - 1) - (n - 1);
    }

    public Result decode(DeviceKey device, byte[] payload, Instant receivedAt) {
        if (payload.length == 0) {
            return new Invalid("empty-payload", "the payload is empty");
        }
        if (payload.length > maxPayloadBytes) {
            return new Invalid("payload-too-large", "the payload has " + payload.length + " bytes; the limit is "
                    + maxPayloadBytes);
        }
        JsonNode root;
        try {
            root = MAPPER.readTree(payload);
        } catch (JsonProcessingException e) {
            return new Invalid("malformed-json", "the payload is not valid JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            return new Invalid("malformed-json", "the payload could not be read");
        }
        List<JsonNode> entries = new ArrayList<>();
        if (root != null && root.isArray()) {
            if (root.size() > MAX_ENTRIES) {
                return new Invalid("too-many-entries", "at most " + MAX_ENTRIES + " entries per message");
            }
            root.forEach(entries::add);
        } else if (root != null && root.isObject()) {
            entries.add(root);
        } else {
            return new Invalid("invalid-payload", "telemetry is a JSON object (or an array of objects)");
        }
        int unstamped = 0;
        for (JsonNode entry : entries) {
            if (!(entry.isObject() && entry.has("values") && entry.has("ts"))) {
                unstamped++;
            }
        }
        long serverTs = unstamped == 0 ? 0 : reserve(device, unstamped, receivedAt.toEpochMilli());
        List<TelemetrySample> out = new ArrayList<>();
        for (JsonNode entry : entries) {
            boolean stamped = entry.isObject() && entry.has("values") && entry.has("ts");
            Invalid problem = decodeEntry(device, entry, receivedAt, stamped ? receivedAt : Instant.ofEpochMilli(serverTs++),
                    out);
            if (problem != null) {
                return problem;
            }
        }
        if (out.isEmpty()) {
            return new Invalid("no-values", "the message holds no values");
        }
        return new Samples(List.copyOf(out));
    }

    private Invalid decodeEntry(DeviceKey device, JsonNode entry, Instant receivedAt, Instant serverTs,
            List<TelemetrySample> out) {
        if (!entry.isObject()) {
            return new Invalid("invalid-payload", "each entry is a JSON object");
        }
        JsonNode values = entry;
        Instant ts = serverTs;
        if (entry.has("values")) {
            values = entry.get("values");
            if (!values.isObject()) {
                return new Invalid("invalid-payload", "\"values\" must be an object");
            }
            Iterator<String> names = entry.fieldNames();
            while (names.hasNext()) {
                String n = names.next();
                if (!n.equals("values") && !n.equals("ts")) {
                    return new Invalid("unknown-field", "unknown field '" + n + "' next to \"values\"");
                }
            }
            if (entry.has("ts")) {
                JsonNode t = entry.get("ts");
                if (!t.isIntegralNumber() || !t.canConvertToLong() || t.asLong() < 0) {
                    return new Invalid("invalid-timestamp", "\"ts\" is milliseconds since 1970 as a whole number");
                }
                ts = Instant.ofEpochMilli(t.asLong());
                if (ts.isAfter(receivedAt.plus(maxClockSkew))) {
                    return new Invalid("invalid-timestamp", "\"ts\" is more than " + maxClockSkew + " in the future");
                }
            }
        }
        if (values.size() > MAX_KEYS) {
            return new Invalid("too-many-values", "at most " + MAX_KEYS + " values per entry");
        }
        Iterator<Map.Entry<String, JsonNode>> fields = values.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> f = fields.next();
            String key = f.getKey();
            JsonNode v = f.getValue();
            if (!KEY.matcher(key).matches()) {
                return new Invalid("invalid-key", "key '" + abbreviate(key) + "' is not 1-64 of A-Z a-z 0-9 _ . -");
            }
            if (v.isNumber()) {
                double d = v.asDouble();
                if (Double.isNaN(d) || Double.isInfinite(d)) {
                    return new Invalid("invalid-value", "value of '" + key + "' is out of range");
                }
                out.add(new TelemetrySample(device.tenantId(), device.deviceId(), key, ts, d, null, null, null, receivedAt));
            } else if (v.isTextual()) {
                if (v.asText().length() > MAX_STRING) {
                    return new Invalid("invalid-value", "value of '" + key + "' is longer than " + MAX_STRING + " characters");
                }
                out.add(new TelemetrySample(device.tenantId(), device.deviceId(), key, ts, null, v.asText(), null, null, receivedAt));
            } else if (v.isBoolean()) {
                out.add(new TelemetrySample(device.tenantId(), device.deviceId(), key, ts, null, null, v.asBoolean(), null, receivedAt));
            } else if (v.isObject() || v.isArray()) {
                String json = v.toString();
                if (json.length() > MAX_JSON) {
                    return new Invalid("invalid-value", "JSON value of '" + key + "' is longer than " + MAX_JSON + " characters");
                }
                out.add(new TelemetrySample(device.tenantId(), device.deviceId(), key, ts, null, null, null, json, receivedAt));
            } else {
                return new Invalid("invalid-value", "value of '" + key + "' must be a number, a string, a boolean, "
                        + "an object or an array, not " + v.getNodeType().name().toLowerCase());
            }
        }
        return null;
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "…";
    }
}
