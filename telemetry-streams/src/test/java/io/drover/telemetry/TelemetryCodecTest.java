package io.drover.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.drover.device.DeviceKey;
import io.drover.persistence.TelemetrySample;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class TelemetryCodecTest {

    private static final DeviceKey KEY = new DeviceKey("acme", "d1");
    private static final Instant NOW = Instant.parse("2026-05-01T12:00:00Z");
    private final TelemetryCodec codec = new TelemetryCodec(1024, Duration.ofHours(1));

    private TelemetryCodec.Result decode(String json) {
        return codec.decode(KEY, json.getBytes(StandardCharsets.UTF_8), NOW);
    }

    private List<TelemetrySample> ok(String json) {
        return assertInstanceOf(TelemetryCodec.Samples.class, decode(json)).samples();
    }

    private void invalid(String json, String code) {
        assertEquals(code, assertInstanceOf(TelemetryCodec.Invalid.class, decode(json), json).code(), json);
    }

    @Test
    void entriesWithoutATimestampEachGetAMillisecondOfTheirOwn() {
        List<TelemetrySample> two = ok("[{\"t\":1},{\"t\":2}]");
        assertEquals(2, two.size());
        assertEquals(NOW, two.get(0).ts());
        assertEquals(NOW.plusMillis(1), two.get(1).ts(), "two entries of one message are two rows");
        List<TelemetrySample> sameMs = ok("{\"t\":3}"); // received in the same millisecond
        assertEquals(NOW.plusMillis(2), sameMs.get(0).ts(), "a second message of the same millisecond is a row too");
        assertEquals(NOW, sameMs.get(0).receivedAt(), "the receive time itself is unchanged");
        List<TelemetrySample> stamped = ok("{\"ts\":5,\"values\":{\"t\":4}}");
        assertEquals(Instant.ofEpochMilli(5), stamped.get(0).ts(), "a device's own timestamp is kept as sent");
        TelemetryCodec.Result other = codec.decode(new io.drover.device.DeviceKey("acme", "d2"),
                "{\"t\":1}".getBytes(StandardCharsets.UTF_8), NOW);
        assertEquals(NOW, assertInstanceOf(TelemetryCodec.Samples.class, other).samples().get(0).ts(),
                "per device: another device starts at the receive time");
    }

    @Test
    void envelopesPlainObjectsAndArrays() {
        List<TelemetrySample> s = ok("{\"ts\":1700000000000,\"values\":{\"t\":21.5,\"door\":\"open\",\"on\":false}}");
        assertEquals(3, s.size());
        assertEquals(Instant.ofEpochMilli(1700000000000L), s.get(0).ts());
        assertEquals(21.5, s.get(0).number());
        assertEquals("open", s.get(1).text());
        assertEquals(Boolean.FALSE, s.get(2).bool());
        List<TelemetrySample> plain = ok("{\"t\":1}");
        assertEquals(NOW, plain.get(0).ts(), "no ts: the time it was received");
        assertEquals(NOW, plain.get(0).receivedAt());
        assertEquals(2, ok("[{\"ts\":1,\"values\":{\"a\":1}},{\"b\":2}]").size());
        assertEquals("acme", plain.get(0).tenantId());
        assertEquals("d1", plain.get(0).deviceId());
        List<TelemetrySample> json = ok("{\"pos\":{\"lat\": 52.5, \"lon\": 13.4},\"tags\":[1, \"a\"]}");
        assertEquals("{\"lat\":52.5,\"lon\":13.4}", json.get(0).json(), "objects are kept as compact JSON");
        assertEquals("[1,\"a\"]", json.get(1).json());
        assertEquals(null, json.get(0).number());
    }

    @Test
    void everyBadShapeHasAStableCode() {
        invalid("", "empty-payload");
        invalid("{\"a\":", "malformed-json");
        invalid("{\"a\":1} trailing", "malformed-json");
        invalid("42", "invalid-payload");
        invalid("[1]", "invalid-payload");
        invalid("{\"values\":[1]}", "invalid-payload");
        invalid("{\"values\":{\"a\":1},\"extra\":2}", "unknown-field");
        invalid("{\"ts\":\"x\",\"values\":{\"a\":1}}", "invalid-timestamp");
        invalid("{\"ts\":-5,\"values\":{\"a\":1}}", "invalid-timestamp");
        invalid("{\"ts\":" + NOW.plus(Duration.ofHours(2)).toEpochMilli() + ",\"values\":{\"a\":1}}", "invalid-timestamp");
        invalid("{\"a b\":1}", "invalid-key");
        invalid("{\"a\":null}", "invalid-value");
        String bigJson = "{\"a\":{\"b\":\"" + "x".repeat(TelemetryCodec.MAX_JSON) + "\"}}";
        assertEquals("invalid-value", assertInstanceOf(TelemetryCodec.Invalid.class, new TelemetryCodec(100_000,
                Duration.ofHours(1)).decode(KEY, bigJson.getBytes(StandardCharsets.UTF_8), NOW)).code());
        invalid("{\"a\":1e999}", "invalid-value");
        invalid("{}", "no-values");
        invalid("{\"a\":\"" + "x".repeat(2000) + "\"}", "payload-too-large");
    }
}
