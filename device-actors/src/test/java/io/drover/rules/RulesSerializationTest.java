package io.drover.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.SerializationTestKit;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The rules context's messages that the entity testkits do not carry (topic messages, rule definitions with every
 * action field) survive jackson-cbor and are bound to it.
 */
class RulesSerializationTest {

    private static final ActorTestKit testKit = ActorTestKit.create();
    private static final SerializationTestKit ser = new SerializationTestKit(testKit.system());

    @AfterAll
    static void shutdown() {
        testKit.shutdownTestKit();
    }

    private static void roundTrip(Object message) throws Exception {
        ser.verifySerialization(message, true);
        assertEquals("JacksonCborSerializer", SerializationExtension.get(testKit.system().classicSystem())
                .serializerFor(message.getClass()).getClass().getSimpleName(), message.getClass().getSimpleName());
    }

    @Test
    void topicMessagesDefinitionsAndStatuses() throws Exception {
        var details = (com.fasterxml.jackson.databind.node.ObjectNode) new ObjectMapper().readTree("{\"a\":1}");
        roundTrip(new RuleSet.SetChanged("acme", 7));
        roundTrip(new Alarm.Changed(new Alarm.AlarmView("d:t:1", "acme", "t", "d", 1, Severity.MINOR, Alarm.Status.ACTIVE,
                false, 2, Instant.EPOCH, Instant.EPOCH, null, null, null, null, "r", 3, details, false, 0)));
        roundTrip(new RuleDefinition("n", "d", new RuleDefinition.Trigger(List.of("d1"), "boiler", List.of("roof")),
                "t > 1", "t < 0", "3s", null, List.of(
                        new RuleDefinition.Action("webhook", "clear", null, null, null, null, null, null, null, null,
                                "https://example.com/h", "0123456789abcdef", null, null, null),
                        RuleDefinition.Action.command("reboot", details, "raise"),
                        RuleDefinition.Action.desired(details, null),
                        RuleDefinition.Action.derive("tF", "t * 2"),
                        RuleDefinition.Action.log("hot", null),
                        RuleDefinition.Action.alarm("hot", "critical")), false));
        roundTrip(new RuleRuntime.RuleStatus(2, RuleRuntime.Status.PENDING, 1234));
        roundTrip(new DeviceRules.StatusesChanged(Map.of("r", new RuleRuntime.RuleStatus(1, RuleRuntime.Status.ACTIVE, 5)),
                List.of("gone"), 99));
        roundTrip(new DeviceRules.Message(5, Map.of("t", 1.5, "s", "x", "b", true)));
    }
}
