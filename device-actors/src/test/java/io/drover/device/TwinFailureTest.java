package io.drover.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.typesafe.config.ConfigFactory;
import io.drover.rules.Alarm;
import io.drover.rules.RulesSettings;
import io.drover.rules.Severity;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.eventstream.EventStream;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Journal failures stop an entity, are published as {@link TwinFailure} (the node's
 * {@code drover_twin_restarts_total}), and the entity comes back by itself after its backoff, from the journal:
 * nothing of the failed write is visible, the next command succeeds.
 */
class TwinFailureTest {

    private static final ActorTestKit testKit = ActorTestKit.create(
            EventSourcedBehaviorTestKit.config().withFallback(ConfigFactory.load()));
    private static final PersistenceTestKit journal = PersistenceTestKit.create(testKit.system());
    private static final AtomicInteger ids = new AtomicInteger();
    private static final DeviceSettings SETTINGS = new DeviceSettings(256, 100, 2);

    private TestProbe<TwinFailure> failures;

    @AfterAll
    static void shutdown() {
        testKit.shutdownTestKit();
    }

    @BeforeEach
    void subscribe() {
        journal.clearAll();
        journal.resetPolicy();
        failures = testKit.createTestProbe();
        testKit.system().eventStream().tell(new EventStream.Subscribe<>(TwinFailure.class, failures.ref()));
        // Subscribe is queued at the event stream before any twin of the test exists, so before any failure
    }

    private ActorRef<Device.Command> twin(String id) {
        return testKit.spawn(Device.create(new DeviceKey("acme", id).entityId(), SETTINGS, Clock.systemUTC()));
    }

    private static Device.Register register(ActorRef<Device.Reply> replyTo) {
        return new Device.Register("Boiler", "thermostat", List.of(), JsonNodeFactory.instance.objectNode(), replyTo);
    }

    @Test
    void aFailedWriteIsCountedAndTheTwinComesBackAfterItsBackoff() {
        ActorRef<Device.Command> twin = twin("w-" + ids.incrementAndGet());
        TestProbe<Device.Reply> replies = testKit.createTestProbe();
        journal.failNextPersisted();
        twin.tell(register(replies.ref()));
        assertEquals(new TwinFailure("device", TwinFailure.PERSIST_FAILED), failures.receiveMessage(Duration.ofSeconds(3)));
        replies.expectNoMessage(Duration.ofMillis(300)); // never acknowledged: it was not stored

        // restarted after the backoff (200 ms doubling), recovered from the journal: still unregistered, and the
        // retried registration is stored
        replies.awaitAssert(Duration.ofSeconds(5), () -> {
            twin.tell(register(replies.ref()));
            assertInstanceOf(Device.TokenIssued.class, replies.receiveMessage(Duration.ofMillis(500)));
            return null;
        });
        twin.tell(new Device.Get(replies.ref()));
        assertEquals("Boiler", assertInstanceOf(Device.DeviceDetails.class, replies.receiveMessage()).device().name());
        failures.expectNoMessage(Duration.ofMillis(200)); // one failure, one count
    }

    @Test
    void aFailedRecoveryIsCountedAndRetried() {
        String id = "r-" + ids.incrementAndGet();
        TestProbe<Device.Reply> replies = testKit.createTestProbe();
        ActorRef<Device.Command> first = twin(id);
        first.tell(register(replies.ref()));
        assertInstanceOf(Device.TokenIssued.class, replies.receiveMessage(Duration.ofSeconds(3)));
        testKit.stop(first);

        journal.failNextRead();
        ActorRef<Device.Command> again = twin(id);
        assertEquals(new TwinFailure("device", TwinFailure.RECOVERY_FAILED), failures.receiveMessage(Duration.ofSeconds(3)));
        again.tell(new Device.Get(replies.ref())); // stashed until the restarted twin has recovered
        assertEquals("Boiler", assertInstanceOf(Device.DeviceDetails.class,
                replies.receiveMessage(Duration.ofSeconds(5))).device().name());
    }

    @Test
    void alarmsAreCountedAndRestartedToo() {
        int n = ids.incrementAndGet();
        ActorRef<Alarm.Command> alarm = testKit.spawn(Alarm.create(new Alarm.Key("acme", "a" + n, "overheat").entityId(),
                RulesSettings.defaults(), Clock.systemUTC(), null));
        TestProbe<Alarm.Reply> replies = testKit.createTestProbe();
        journal.failNextPersisted();
        alarm.tell(new Alarm.Raise("k1", "rule-1", 1, Severity.MAJOR, null, Instant.now(), replies.ref()));
        assertEquals(new TwinFailure("alarm", TwinFailure.PERSIST_FAILED), failures.receiveMessage(Duration.ofSeconds(3)));
        replies.awaitAssert(Duration.ofSeconds(5), () -> {
            alarm.tell(new Alarm.Raise("k2", "rule-1", 1, Severity.MAJOR, null, Instant.now(), replies.ref()));
            assertInstanceOf(Alarm.Details.class, replies.receiveMessage(Duration.ofMillis(500)));
            return null;
        });
    }
}
