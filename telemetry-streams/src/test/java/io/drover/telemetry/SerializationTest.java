package io.drover.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.drover.persistence.TelemetrySample;
import java.time.Instant;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.SerializationTestKit;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The live feed's message crosses nodes: it survives jackson-cbor and is bound to it. */
class SerializationTest {

    private static final ActorTestKit testKit = ActorTestKit.create();

    @AfterAll
    static void shutdown() {
        testKit.shutdownTestKit();
    }

    @Test
    void liveSamplesRoundTrip() throws Exception {
        Instant at = Instant.parse("2026-03-04T05:06:07.123456Z");
        LiveFeed.Samples m = new LiveFeed.Samples("acme", "d1", List.of(
                TelemetrySample.number("acme", "d1", "t", at, 21.5, at),
                new TelemetrySample("acme", "d1", "s", at, null, "on", null, null, at),
                new TelemetrySample("acme", "d1", "b", at, null, null, true, null, at),
                new TelemetrySample("acme", "d1", "j", at, null, null, null, "{\"a\":[1,2]}", at)));
        new SerializationTestKit(testKit.system()).verifySerialization(m, true);
        assertEquals("JacksonCborSerializer", SerializationExtension.get(testKit.system().classicSystem())
                .serializerFor(m.getClass()).getClass().getSimpleName());
    }
}
